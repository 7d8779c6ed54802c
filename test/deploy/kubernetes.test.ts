// The Kubernetes base in deploy/kubernetes/ (docs/operations.md "Kubernetes"), held against the Kubernetes
// API schemas (kubernetes-models validates each object as the API server would) — no cluster runs
// here — and against what the provider needs: probes on the endpoints it serves, secrets only by
// reference, the admin port on its own Service and never behind the Ingress, the autoscaler and the
// disruption budget on the provider's pods, the migration as a Job of the same image, and settings the
// production configuration accepts.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { load, loadAll } from 'js-yaml';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { IContainer, IEnvVar } from 'kubernetes-models/v1';
import { loadConfig } from '../../src/config/config.ts';

const BASE = path.resolve(import.meta.dirname, '../../deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [field: string]: unknown;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/** The objects a kustomization lists, read from its folder. */
function kustomization(folder: string): { resources: string[]; objects: Manifest[] } {
  const spec = load(readFileSync(path.join(folder, 'kustomization.yaml'), 'utf8')) as { kind: string; resources: string[] };
  expect(spec.kind).to.equal('Kustomization');
  const objects: Manifest[] = [];
  for (const resource of spec.resources) {
    const file = path.join(folder, resource);
    expect(existsSync(file), `${resource} listed in ${folder}`).to.equal(true);
    for (const document of loadAll(readFileSync(file, 'utf8'))) if (document) objects.push(document as Manifest);
  }
  return { resources: spec.resources, objects };
}

const base = kustomization(BASE);
const migration = kustomization(path.join(BASE, 'migration'));
const one = <T,>(objects: Manifest[], kind: string, name?: string) => {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).to.have.length(1);
  return found[0] as unknown as T;
};

const deployment = one<Deployment>(base.objects, 'Deployment');
const podLabels = deployment.spec!.template.metadata!.labels!;
const provider = deployment.spec!.template.spec!.containers[0]!;
const matches = (selector: Record<string, string> | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => podLabels[key] === value);
const portNumber = (container: IContainer, name: string | number) =>
  typeof name === 'number' ? name : container.ports!.find((port) => port.name === name)!.containerPort;

describe('the Kubernetes base (deploy/kubernetes)', () => {
  it('lists every manifest in the folder, and each is valid against the Kubernetes schemas', () => {
    const files = readdirSync(BASE).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...base.resources].sort()).to.deep.equal(files.sort());
    for (const object of [...base.objects, ...migration.objects]) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `a schema for ${object.apiVersion} ${object.kind}`).to.not.equal(undefined);
      expect(() => new Model!(object as never).validate(), `${object.kind} ${object.metadata.name}`).to.not.throw();
    }
  });

  it('catches an invalid manifest (the schema check is real)', () => {
    const broken = structuredClone(deployment) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'three';
    expect(() => new Deployment(broken as never).validate()).to.throw();
  });

  it('probes the provider where it answers: liveness /healthz, readiness /readyz, on the public port', () => {
    const source = readFileSync(path.resolve(import.meta.dirname, '../../src/server.ts'), 'utf8');
    expect(source).to.include(".get('/healthz'").and.to.include(".get('/readyz'");
    expect(provider.livenessProbe?.httpGet).to.deep.include({ path: '/healthz' });
    expect(provider.readinessProbe?.httpGet).to.deep.include({ path: '/readyz' });
    expect(provider.startupProbe?.httpGet).to.deep.include({ path: '/healthz' });
    expect(portNumber(provider, provider.readinessProbe!.httpGet!.port)).to.equal(3000);
    expect(provider.resources?.requests).to.have.keys('cpu', 'memory');
    expect(deployment.spec!.strategy?.rollingUpdate).to.deep.include({ maxUnavailable: 0 });
  });

  it('takes every secret from a Secret by reference, and no secret value from anywhere else', () => {
    const secretNames = ['DATABASE_URL', 'REDIS_URL', 'KEY_ENCRYPTION_KEY', 'PAIRWISE_KEY', 'AUDIT_HEADS_KEY', 'SMTP_URL'];
    const env = new Map((provider.env ?? []).map((variable: IEnvVar) => [variable.name, variable]));
    for (const name of secretNames) {
      expect(env.get(name)?.valueFrom?.secretKeyRef, name).to.deep.include({ name: 'citizen-idp-secrets', key: name });
      expect(env.get(name)?.value, name).to.equal(undefined);
    }
    expect(base.objects.some((object) => object.kind === 'Secret'), 'no Secret in the base').to.equal(false);
    const settings = one<ConfigMap>(base.objects, 'ConfigMap');
    for (const name of secretNames) expect(settings.data ?? {}, name).to.not.have.property(name);
  });

  it('serves the admin port on a Service of its own, which the Ingress never routes to', () => {
    const services = base.objects.filter((object) => object.kind === 'Service') as unknown as Service[];
    const admin = services.filter((service) => service.spec!.ports!.some((port) => portNumber(provider, port.targetPort as string) === 3001));
    expect(admin.map((service) => service.metadata!.name)).to.deep.equal(['citizen-idp-admin']);
    expect(admin[0]!.spec!.ports).to.have.length(1);
    expect(admin[0]!.spec!.type).to.equal('ClusterIP');
    for (const service of services) expect(matches(service.spec!.selector), service.metadata!.name).to.equal(true);
    const ingress = one<Ingress>(base.objects, 'Ingress');
    const backends = ingress.spec!.rules!.flatMap((rule) => rule.http!.paths.map((entry) => entry.backend.service!));
    expect(backends).to.not.have.length(0);
    for (const backend of backends) {
      expect(backend.name).to.equal('citizen-idp-public');
      const service = services.find((candidate) => candidate.metadata!.name === backend.name)!;
      const port = service.spec!.ports!.find((candidate) => candidate.name === backend.port!.name || candidate.port === backend.port!.number)!;
      expect(portNumber(provider, port.targetPort as string), 'the Ingress reaches the public port only').to.equal(3000);
    }
    const policy = one<NetworkPolicy>(base.objects, 'NetworkPolicy');
    const adminRule = policy.spec!.ingress!.find((rule) => rule.ports!.some((port) => port.port === 3001))!;
    expect(adminRule.from, 'the admin port from labelled pods only').to.not.equal(undefined);
  });

  it('scales the provider on CPU and lets a drain take one pod at a time', () => {
    const hpa = one<HorizontalPodAutoscaler>(base.objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).to.deep.include({ kind: 'Deployment', name: deployment.metadata!.name });
    expect(hpa.spec.metrics!.map((metric) => metric.resource?.name)).to.deep.equal(['cpu']);
    expect(hpa.spec.minReplicas).to.be.at.least(2);
    const pdb = one<PodDisruptionBudget>(base.objects, 'PodDisruptionBudget');
    expect(matches(pdb.spec!.selector!.matchLabels)).to.equal(true);
    expect(pdb.spec!.maxUnavailable).to.equal(1);
  });

  it('migrates in a Job of the same image and settings, before the rollout', () => {
    const job = one<Job>(migration.objects, 'Job');
    const container = job.spec!.template.spec!.containers[0]!;
    expect(container.image).to.equal(provider.image);
    expect(container.command).to.deep.equal(['node', 'dist/src/cli.js', 'migrate']);
    expect(container.envFrom).to.deep.equal(provider.envFrom);
    expect(job.spec!.template.spec!.restartPolicy).to.equal('Never');
    expect(job.metadata!.annotations).to.include({ 'argocd.argoproj.io/hook': 'PreSync' });
    expect(matches(job.spec!.template.metadata!.labels), 'the Job\'s pod is not one of the provider\'s Services\' pods').to.equal(false);
  });

  it('gives the production configuration settings it accepts', () => {
    const settings = one<ConfigMap>(base.objects, 'ConfigMap').data!;
    const secrets = {
      DATABASE_URL: 'postgres://cidp:secret@postgres:5432/cidp',
      REDIS_URL: 'redis://redis:6379/0',
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PAIRWISE_KEY: randomBytes(32).toString('base64'),
      AUDIT_HEADS_KEY: randomBytes(32).toString('base64'),
      SMTP_URL: 'smtps://relay:secret@smtp.example.vn:465',
    };
    // Each workload with the secrets it names, and only those.
    const job = one<Job>(migration.objects, 'Job');
    for (const container of [provider, job.spec!.template.spec!.containers[0]!]) {
      const named = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, secrets[variable.name as keyof typeof secrets]]));
      const config = loadConfig({ ...settings, ...named });
      expect(config.env).to.equal('production');
      expect(config.port).to.equal(3000);
      expect(config.adminPort).to.equal(3001);
    }
  });
});
