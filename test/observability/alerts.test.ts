// The alert rules and the Grafana dashboard in docker/ read metrics that exist: every metric name in
// their expressions is one a running server exposes on its admin port, and every label they select
// or group by is one that metric has. (promtool is not on this machine; this is the check in its place.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { startTestServer, type RunningServer } from '../support/world.ts';

const DOCKER = path.resolve(import.meta.dirname, '../../docker');
/** Labels Prometheus adds at scrape time, and the bucket bound of histograms. */
const SCRAPE_LABELS = new Set(['instance', 'job', 'le']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

function alertRules(): AlertRule[] {
  const file = load(readFileSync(path.join(DOCKER, 'prometheus/alerts.yml'), 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
  return file.groups.flatMap((group) => group.rules);
}

function dashboardExpressions(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(path.join(DOCKER, 'grafana/dashboards/citizen-idp.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
}

/** Each metric an expression reads, with the labels it matches on right after the name. */
function selectorsOf(expr: string): { metric: string; labels: string[] }[] {
  return [...expr.matchAll(/\b(idp_[a-z0-9_]+|up)\b(\{([^}]*)\})?/g)].map((match) => ({
    metric: match[1]!,
    labels: [...(match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)/g)].map((label) => label[1]!),
  }));
}

/** Labels named in by (...) and without (...) clauses. */
function groupingLabelsOf(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((match) =>
    match[1]!
      .split(',')
      .map((label) => label.trim())
      .filter((label) => label !== ''),
  );
}

function balanced(expr: string): boolean {
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (const character of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('([{'.includes(character)) stack.push(character);
    else if (character in closing && stack.pop() !== closing[character]) return false;
  }
  return stack.length === 0;
}

describe('alert rules and dashboard (docker/)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  /** Exposed metric names (histograms with their suffixes) → their label names. */
  const exposed = new Map<string, Set<string>>();

  before(async () => {
    world = await startTestServer({ seed: false });
    const registry = world.server.container.metrics.scrapeRegistry;
    const metrics = await registry.getMetricsAsJSON();
    for (const metric of metrics) {
      const labels = new Set<string>(metric.values.flatMap((value) => Object.keys(value.labels)));
      for (const name of (metric as { labelNames?: string[] }).labelNames ?? []) labels.add(name);
      // The registry knows the label names a metric was declared with, even before any sample.
      const declared = (registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
      for (const name of declared) labels.add(name);
      const names = String(metric.type) === 'histogram' ? HISTOGRAM_SUFFIXES.map((suffix) => `${metric.name}${suffix}`) : [metric.name];
      for (const name of names) exposed.set(name, labels);
    }
    // The live exposition agrees: every name above is in what Prometheus would scrape.
    const text = await (await fetch(`${world.adminUrl}/metrics`)).text();
    for (const name of exposed.keys()) {
      const family = HISTOGRAM_SUFFIXES.reduce((base, suffix) => (base.endsWith(suffix) ? base.slice(0, -suffix.length) : base), name);
      expect(text, name).to.include(`# TYPE ${family} `);
    }
  });
  after(() => world?.close());

  it('has well-formed alerts: a name, a severity, a summary, balanced expressions', () => {
    const rules = alertRules();
    expect(rules.length).to.be.at.least(10);
    const names = new Set<string>();
    for (const rule of rules) {
      expect(rule.alert, JSON.stringify(rule)).to.match(/^Idp[A-Za-z]+$/);
      expect(names.has(rule.alert), `${rule.alert} twice`).to.equal(false);
      names.add(rule.alert);
      expect(rule.labels?.severity, rule.alert).to.be.oneOf(['page', 'ticket']);
      expect(rule.annotations?.summary, rule.alert).to.be.a('string');
      expect(balanced(rule.expr), rule.alert).to.equal(true);
      if (rule.for !== undefined) expect(rule.for, rule.alert).to.match(/^\d+[smhd]$/);
    }
    // What issue 9 asks an operator to be woken for.
    for (const needed of ['IdpHighErrorRate', 'IdpSignInFailureSpike', 'IdpDependencyDown', 'IdpLockoutStorm', 'IdpBackchannelLogoutBacklog', 'IdpCertificateExpiresSoon', 'IdpSigningKeyRotationOverdue']) {
      expect(names, needed).to.include(needed);
    }
  });

  it('reads in every alert only metrics and labels the server exposes', () => {
    for (const rule of alertRules()) {
      const selectors = selectorsOf(rule.expr);
      expect(selectors.length, `${rule.alert} reads no metric`).to.be.greaterThan(0);
      for (const { metric, labels } of selectors) {
        if (metric === 'up') continue; // Prometheus's own, per scrape target
        expect(exposed.has(metric), `${rule.alert}: ${metric} is not exposed`).to.equal(true);
        for (const label of labels) expect(exposed.get(metric)!.has(label) || SCRAPE_LABELS.has(label), `${rule.alert}: ${metric} has no label ${label}`).to.equal(true);
      }
      const known = new Set(selectors.flatMap(({ metric }) => [...(exposed.get(metric) ?? [])]));
      for (const label of groupingLabelsOf(rule.expr)) expect(known.has(label) || SCRAPE_LABELS.has(label), `${rule.alert}: grouped by unknown label ${label}`).to.equal(true);
    }
  });

  it('reads in every dashboard panel only metrics and labels the server exposes', () => {
    const expressions = dashboardExpressions();
    expect(expressions.length).to.be.at.least(15);
    for (const { panel, expr } of expressions) {
      expect(balanced(expr), panel).to.equal(true);
      for (const { metric, labels } of selectorsOf(expr)) {
        if (metric === 'up') continue;
        expect(exposed.has(metric), `${panel}: ${metric} is not exposed`).to.equal(true);
        for (const label of labels) expect(exposed.get(metric)!.has(label) || SCRAPE_LABELS.has(label), `${panel}: ${metric} has no label ${label}`).to.equal(true);
      }
    }
  });

  it('scrapes the admin port of every provider replica, and loads the alert rules', () => {
    const prometheus = load(readFileSync(path.join(DOCKER, 'prometheus/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    expect(prometheus.rule_files).to.deep.equal(['/etc/prometheus/alerts.yml']);
    const job = prometheus.scrape_configs.find((config) => config.job_name === 'citizen-idp')!;
    expect(job.metrics_path).to.equal('/metrics');
    expect(job.dns_sd_configs[0]!.port).to.equal(3001);
    const compose = readFileSync(path.join(DOCKER, 'compose.yaml'), 'utf8');
    expect(compose).to.include('./prometheus:/etc/prometheus:ro').and.include('./grafana/provisioning:/etc/grafana/provisioning:ro');
  });

  it('sends what fires to the compose Alertmanager, with the label its inhibitions match on', () => {
    const prometheus = load(readFileSync(path.join(DOCKER, 'prometheus/prometheus.yml'), 'utf8')) as {
      global: { external_labels?: Record<string, string> };
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    expect(prometheus.global.external_labels?.deployment).to.be.a('string').and.not.empty;
    expect(prometheus.alerting.alertmanagers.flatMap((manager) => manager.static_configs.flatMap((config) => config.targets))).to.deep.equal(['alertmanager:9093']);
    const compose = load(readFileSync(path.join(DOCKER, 'compose.yaml'), 'utf8')) as {
      services: Record<string, { command?: string[]; volumes?: string[]; depends_on?: string[]; ports?: string[] }>;
    };
    const alertmanager = compose.services.alertmanager!;
    expect(alertmanager.command).to.include('--config.file=/etc/alertmanager/alertmanager.yml');
    expect(alertmanager.volumes).to.include('./alertmanager:/etc/alertmanager:ro');
    // Like Prometheus and Grafana: on the host's loopback only.
    expect(alertmanager.ports).to.deep.equal(['127.0.0.1:9093:9093']);
    expect(compose.services.prometheus!.depends_on).to.include('alertmanager');
  });

  describe('Alertmanager configuration (docker/alertmanager/alertmanager.yml)', () => {
    interface Route {
      readonly receiver?: string;
      readonly matchers?: string[];
      readonly group_by?: string[];
      readonly continue?: boolean;
      readonly routes?: Route[];
    }
    interface InhibitRule {
      readonly source_matchers: string[];
      readonly target_matchers: string[];
      readonly equal?: string[];
    }
    interface Matcher {
      readonly label: string;
      readonly op: '=' | '!=' | '=~' | '!~';
      readonly value: string;
    }
    const config = () =>
      load(readFileSync(path.join(DOCKER, 'alertmanager/alertmanager.yml'), 'utf8')) as {
        route: Route;
        receivers: ({ name: string } & Record<string, unknown>)[];
        inhibit_rules: InhibitRule[];
      };

    /** Alertmanager's matcher syntax: label, operator, quoted value; regular expressions are anchored. */
    function matcher(text: string): Matcher {
      const match = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(text);
      expect(match, `a matcher: ${text}`).to.not.equal(null);
      return { label: match![1]!, op: match![2] as Matcher['op'], value: match![3]! };
    }
    function matches(matchers: readonly string[] | undefined, labels: Record<string, string>): boolean {
      return (matchers ?? []).map(matcher).every(({ label, op, value }) => {
        const actual = labels[label] ?? '';
        if (op === '=') return actual === value;
        if (op === '!=') return actual !== value;
        const hit = new RegExp(`^(?:${value})$`).test(actual);
        return op === '=~' ? hit : !hit;
      });
    }
    /** The receiver an alert with these labels is sent to: the first matching child route, depth first. */
    function receiverOf(route: Route, labels: Record<string, string>, inherited = 'none'): string {
      const own = route.receiver ?? inherited;
      for (const child of route.routes ?? []) {
        if (matches(child.matchers, labels)) return receiverOf(child, labels, own);
      }
      return own;
    }
    /** The labels an alert carries: its own, what its expression keeps (by …), the external deployment label. */
    function labelsOf(rule: AlertRule): Set<string> {
      return new Set(['alertname', 'deployment', ...Object.keys(rule.labels ?? {}), ...groupingLabelsOf(rule.expr)]);
    }
    /** The existing alerts a list of matchers selects. */
    function selected(matchers: readonly string[]): AlertRule[] {
      return alertRules().filter((rule) => matches(matchers, { alertname: rule.alert, deployment: 'citizen-idp', ...rule.labels }));
    }

    it('routes to receivers that exist, each with somewhere to send to, grouped by alert', () => {
      const { route, receivers } = config();
      const names = receivers.map((receiver) => receiver.name);
      expect(new Set(names).size, 'receiver names are unique').to.equal(names.length);
      for (const receiver of receivers) {
        expect(Object.keys(receiver).filter((key) => key.endsWith('_configs')), `${receiver.name} sends nowhere`).to.not.be.empty;
      }
      const walk = (node: Route): void => {
        if (node.receiver !== undefined) expect(names, `route receiver ${node.receiver}`).to.include(node.receiver);
        for (const text of node.matchers ?? []) matcher(text);
        for (const child of node.routes ?? []) walk(child);
      };
      expect(route.receiver, 'the root route has a receiver').to.be.a('string');
      walk(route);
      expect(route.group_by).to.include('alertname');
    });

    it('pages for every page alert and files a ticket for every ticket alert', () => {
      const { route } = config();
      for (const rule of alertRules()) {
        const receiver = receiverOf(route, { alertname: rule.alert, deployment: 'citizen-idp', ...rule.labels });
        expect(receiver, rule.alert).to.equal(rule.labels?.severity === 'page' ? 'pager' : 'tickets');
      }
    });

    it('inhibits, while a dependency is down, the alerts it explains — only alerts that exist, on labels both carry', () => {
      const rules = config().inhibit_rules;
      expect(rules).to.not.be.empty;
      for (const rule of rules) {
        const sources = selected(rule.source_matchers);
        const targets = selected(rule.target_matchers);
        const what = `${rule.source_matchers.join(',')} → ${rule.target_matchers.join(',')}`;
        expect(sources, `${what}: the source names no alert`).to.not.be.empty;
        expect(targets, `${what}: the target names no alert`).to.not.be.empty;
        // Every name an alternation lists is an alert (a misspelt one would silently inhibit nothing).
        for (const { label, value } of [...rule.source_matchers, ...rule.target_matchers].map(matcher)) {
          if (label !== 'alertname') continue;
          for (const name of value.split('|')) expect(alertRules().map((alert) => alert.alert), `${what}: ${name}`).to.include(name);
        }
        expect(targets.filter((target) => sources.includes(target)), `${what}: an alert inhibiting itself`).to.be.empty;
        expect(rule.equal, `${what}: equal keeps deployments apart`).to.include('deployment');
        for (const label of rule.equal ?? []) {
          for (const alert of [...sources, ...targets]) expect(labelsOf(alert).has(label), `${what}: ${alert.alert} has no label ${label}`).to.equal(true);
        }
      }
      const inhibitedBy = (source: string) =>
        rules.filter((rule) => selected(rule.source_matchers).some((alert) => alert.alert === source)).flatMap((rule) => selected(rule.target_matchers).map((alert) => alert.alert));
      expect(inhibitedBy('IdpDependencyDown')).to.include.members(['IdpHighErrorRate', 'IdpSignInFailureSpike', 'IdpDatabasePoolExhausted']);
      expect(inhibitedBy('IdpDependencyDown'), 'a down dependency does not hide a lockout storm').to.not.include('IdpLockoutStorm');
    });
  });
});
