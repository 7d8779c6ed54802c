// Writes docs/configuration.md from the descriptors in settings.ts and the defaults the settings files
// give each environment, so the reference cannot fall behind the code: `npm run docs:config`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { settingsFileDefaults, valueAt, type Config, type Environment } from './config.ts';
import { DEPLOYMENT_CHECKS, OTHER_VARIABLES, SETTINGS, type CrossRule, type SettingDescriptor, type SettingPath } from './settings.ts';

export const REFERENCE_FILE = path.resolve(import.meta.dirname, '../../docs/configuration.md');
export const REGENERATE_COMMAND = 'npm run docs:config';

const ENVIRONMENTS: readonly Environment[] = ['development', 'test', 'production'];

/** One table cell: no line breaks, and a pipe cannot end the cell. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function formatValue(value: unknown, whenUnset: string | undefined): string {
  if (value === undefined) return whenUnset === undefined || whenUnset === 'none' ? 'none' : `unset: ${whenUnset}`;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((entry) => `\`${String(entry)}\``).join(', ');
  if (value === '') return 'empty';
  // Numbers, booleans and strings; a key (a Buffer) is never in the settings files.
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

/** The development default, and where another environment's settings file differs from it. */
function formatDefault(setting: SettingPath, descriptor: SettingDescriptor<unknown>, defaults: ReadonlyMap<Environment, Config>): string {
  const [development, ...others] = ENVIRONMENTS.map((env) => formatValue(valueAt(defaults.get(env)!, setting), descriptor.whenUnset));
  // NODE_ENV chooses the environment; its "default" in each is itself.
  if (setting === 'env') return development!;
  const differing = others.map((text, index) => (text === development ? undefined : `${ENVIRONMENTS[index + 1]!}: ${text}`)).filter(Boolean);
  return differing.length === 0 ? development! : `${development!} (${differing.join('; ')})`;
}

function formatProduction(descriptor: SettingDescriptor<unknown>): string {
  const rule = descriptor.production;
  if (!rule) return '';
  const what = rule.expected.replace(/^expected /, '').replace(/ in production/, '');
  // Required: the setting may be left out elsewhere, and production refuses it left out.
  const mayBeAbsent = descriptor.schema.safeParse(undefined);
  return mayBeAbsent.success && mayBeAbsent.data === undefined && !rule.accepts(undefined) ? `**required**: ${what}` : what;
}

/** The whole of docs/configuration.md. */
export function renderConfigurationReference(configDir?: string): string {
  const defaults = new Map(ENVIRONMENTS.map((env) => [env, settingsFileDefaults(env, configDir)] as const));
  const lines = [
    '# Configuration',
    '',
    `<!-- Generated from src/config/settings.ts by \`${REGENERATE_COMMAND}\`: edit the descriptors there, not this file. -->`,
    '',
    'Settings come from `config/default.json`, overlaid by `config/<NODE_ENV>.json`, overlaid by the',
    'environment. They are validated once at start; a bad or missing setting stops the start with one line',
    'naming the setting (its environment variable, or its path in `config/`) and what is expected. An empty',
    'variable counts as unset; a list is given as entries separated by commas. Secrets are read only from',
    'the environment, never from `config/`: they are marked *secret* below.',
    '',
    '## Settings',
    '',
    'The default is what `config/` gives development, followed by any environment whose settings file',
    'differs. *production* says what `NODE_ENV=production` refuses to start without.',
    '',
    '| environment variable | setting | type | default | production | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [setting, descriptor] of Object.entries(SETTINGS) as [SettingPath, SettingDescriptor<unknown>][]) {
    const variable = descriptor.env === undefined ? '— (`config/` only)' : `\`${descriptor.env}\`${descriptor.secret ? ' (*secret*)' : ''}`;
    const row = [variable, `\`${setting}\``, descriptor.type, formatDefault(setting, descriptor, defaults), formatProduction(descriptor), descriptor.meaning];
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  lines.push(
    '',
    '## Rules across settings',
    '',
    'Checked after each setting on its own; the start stops at the first refusal, naming the variable',
    'shown.',
    '',
    '| variable named | when | expected |',
    '| --- | --- | --- |',
    ...DEPLOYMENT_CHECKS.filter((check): check is CrossRule => typeof check !== 'string').map((rule) => `| ${[`\`${rule.blames}\``, rule.productionOnly ? 'production' : 'every environment', rule.expected.replace(/^expected /, '')].map(cell).join(' | ')} |`),
    '',
    '## Other environment variables',
    '',
    'Read by the code, but not settings of the configuration:',
    '',
    '| variable | read by | meaning |',
    '| --- | --- | --- |',
    ...OTHER_VARIABLES.map((variable) => `| ${[`\`${variable.env}\``, variable.readBy, variable.meaning].map(cell).join(' | ')} |`),
    '',
  );
  return lines.join('\n');
}

if (import.meta.main) {
  writeFileSync(REFERENCE_FILE, renderConfigurationReference());
  console.log(`wrote ${path.relative(process.cwd(), REFERENCE_FILE)}`);
}
