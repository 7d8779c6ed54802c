// Reads config/<env>.json over config/default.json, overlays the environment, validates once and
// returns one frozen, typed Config. A bad setting throws a ConfigError naming the setting. The
// settings themselves, with their schema and meaning, are described once, in settings.ts.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEPLOYMENT_CHECKS, GROUP_RULES, SETTINGS, type GroupRule, type SettingDescriptor, type SettingGroup, type SettingPath } from './settings.ts';

export { decodeKey } from './settings.ts';

// The shape of the configuration. What each field means, its variable and its default: settings.ts.
import type { Config, Environment } from './config-shape.ts';

export type {
  Environment,
  Ttl,
  Config,
  AdminSettings,
  SigningKeySettings,
  CibaSettings,
  AuditSettings,
  SessionLifetimes,
  RedisSettings,
  DatabaseSettings,
  RegistryGatewaySettings,
  ProbeSettings,
  MutualTlsSettings,
} from './config-shape.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly setting: string;
  readonly expected: string;
  constructor(setting: string, expected: string) {
    super(`${setting}: ${expected}`);
    this.setting = setting;
    this.expected = expected;
  }
}

/** Each descriptor with its path in Config, in the order of SETTINGS. */
const DESCRIPTORS = Object.entries(SETTINGS) as [SettingPath, SettingDescriptor<unknown>][];

/** Where each setting can be overridden from the environment; also names settings in errors. */
const ENVIRONMENT_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  DESCRIPTORS.flatMap(([setting, { env }]) => (env === undefined ? [] : [[setting, env]])),
);

/**
 * The schema of Config, from SETTINGS: a group's fields in one object, checked by its GROUP_RULES; a
 * group absent from the settings files takes every default when all its fields have one.
 */
function buildSchema(): z.ZodType<Config> {
  const shape: Record<string, z.ZodType> = {};
  const groups = new Map<string, Record<string, z.ZodType>>();
  for (const [setting, { schema }] of DESCRIPTORS) {
    const [head, field] = setting.split('.') as [string, string | undefined];
    if (field === undefined) {
      shape[head] = schema;
      continue;
    }
    let fields = groups.get(head);
    if (!fields) {
      fields = {};
      groups.set(head, fields);
      // Holds the group's place among the settings, so issues come in the order of SETTINGS.
      shape[head] = z.never();
    }
    fields[field] = schema;
  }
  for (const [name, fields] of groups) {
    const rule = GROUP_RULES[name as SettingGroup] as GroupRule<Record<string, unknown>> | undefined;
    const group = rule
      ? z.object(fields).superRefine((settings, ctx) => {
          for (const { field, expected } of rule(settings)) ctx.addIssue({ code: 'custom', path: [field], message: expected });
        })
      : z.object(fields);
    const everyFieldDefaults = Object.values(fields).every((schema) => schema.safeParse(undefined).success);
    shape[name] = everyFieldDefaults ? group.prefault({}) : group;
  }
  // SETTINGS is typed leaf by leaf against Config, so the object built from it parses to a Config.
  return z.object(shape) as unknown as z.ZodType<Config>;
}

const schema = buildSchema();

type Environ = Readonly<Record<string, string | undefined>>;

/** Settings files merged over each other; later ones win, objects merge key by key. */
function readSettingsFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(path.basename(file), `expected a JSON object (${(cause as Error).message})`);
  }
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export interface LoadOptions {
  /** Folder holding default.json and <env>.json. */
  readonly configDir?: string;
  /** Settings laid over files and environment (tests use it). */
  readonly overrides?: Partial<Record<keyof Config, unknown>>;
}

const CONFIG_DIR = path.resolve(import.meta.dirname, '../../config');

/** config/default.json with config/<env>.json over it. */
function readSettingsFiles(env: Environment, configDir: string): Record<string, unknown> {
  const raw = merge(readSettingsFile(path.join(configDir, 'default.json')), readSettingsFile(path.join(configDir, `${env}.json`)));
  raw.env = env;
  return raw;
}

/** Validates the merged settings; the first bad one becomes a ConfigError naming its variable, or else its path. */
function parseSettings(raw: Record<string, unknown>): Config {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [first, ...restPath] = issue.path.map(String);
    const dotted = [first, ...restPath].join('.');
    const setting = first ? (ENVIRONMENT_NAMES[dotted] ?? ENVIRONMENT_NAMES[first] ?? dotted) : 'configuration';
    throw new ConfigError(setting, issue.message);
  }
  return parsed.data;
}

export function loadConfig(environ: Environ = process.env, options: LoadOptions = {}): Config {
  // Empty counts as unset, as for every other setting.
  const envName = environ.NODE_ENV || 'development';
  if (!isEnvironment(envName)) {
    // JSON quoting keeps the message on one line whatever the variable holds.
    throw new ConfigError('NODE_ENV', `expected development, test or production, got ${JSON.stringify(envName)}`);
  }
  let raw = readSettingsFiles(envName, options.configDir ?? CONFIG_DIR);
  for (const [setting, { env, list }] of DESCRIPTORS) {
    // NODE_ENV has chosen the settings files above.
    if (env === undefined || setting === 'env') continue;
    const value = environ[env];
    if (value === undefined || value === '') continue;
    const parsedValue = list ? value.split(',').map((entry) => entry.trim()).filter(Boolean) : value;
    // A dotted setting ('notifications.smtpUrl') lands in its nested object.
    raw = merge(raw, setting.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), parsedValue) as Record<string, unknown>);
  }
  if (options.overrides) raw = merge(raw, options.overrides);

  const config = parseSettings(raw);
  assertDeployable(config);
  return deepFreeze(config);
}

/**
 * What the settings files give an environment when nothing is overridden, for the reference; not
 * checked for deployment.
 */
export function settingsFileDefaults(env: Environment, configDir: string = CONFIG_DIR): Config {
  return parseSettings(readSettingsFiles(env, configDir));
}

function isEnvironment(name: string): name is Environment {
  return name === 'development' || name === 'test' || name === 'production';
}

/** The value at a setting's path ('redis.commandTimeoutMs') in a Config. */
export function valueAt(config: Config, setting: SettingPath): unknown {
  return setting.split('.').reduce<unknown>((inner, key) => (inner as Record<string, unknown>)[key], config);
}

/** Production refuses everything that only makes sense on a laptop; some rules hold everywhere. */
function assertDeployable(config: Config): void {
  const production = config.env === 'production';
  for (const check of DEPLOYMENT_CHECKS) {
    if (typeof check === 'string') {
      const { env, production: rule } = SETTINGS[check] as SettingDescriptor<unknown>;
      if (production && rule && !rule.accepts(valueAt(config, check))) throw new ConfigError(env ?? check, rule.expected);
    } else if ((production || !check.productionOnly) && check.refuses(config)) {
      throw new ConfigError(check.blames, check.expected);
    }
  }
}

/** True when any part runs embedded: the quickstart. */
export function isQuickstart(config: Config): boolean {
  return config.databaseUrl === undefined || config.redisUrl === undefined;
}
