// docs/configuration.md is what the generator writes from the descriptors today, every environment
// variable the code reads is described, and no secret is written into config/.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { REFERENCE_FILE, REGENERATE_COMMAND, renderConfigurationReference } from '../../src/config/configuration-reference.ts';
import { DEPLOYMENT_CHECKS, OTHER_VARIABLES, SETTINGS, type SettingDescriptor } from '../../src/config/settings.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DESCRIPTORS = Object.entries(SETTINGS) as [string, SettingDescriptor<unknown>][];

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Variable names read as process.env.X, process.env['X'], environ.X (the environment handed down), or destructured. */
function variablesReadIn(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(/\b(?:process\.env|environ)(?:\.([A-Z][A-Z0-9_]*)|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g)) {
    names.push((match[1] ?? match[2])!);
  }
  for (const match of source.matchAll(/\{([^{}]*)\}\s*=\s*(?:process\.env|environ)\b/g)) {
    names.push(...match[1]!.split(',').map((part) => part.split(':')[0]!.trim()).filter((name) => /^[A-Z][A-Z0-9_]*$/.test(name)));
  }
  return names;
}

describe('configuration reference', () => {
  it(`docs/configuration.md is what \`${REGENERATE_COMMAND}\` writes now`, () => {
    const written = readFileSync(REFERENCE_FILE, 'utf8');
    const current = renderConfigurationReference();
    if (written !== current) {
      const writtenLines = written.split('\n');
      const currentLines = current.split('\n');
      const line = currentLines.findIndex((text, index) => text !== writtenLines[index]);
      expect.fail(
        `docs/configuration.md is stale (first difference at line ${line + 1}): run \`${REGENERATE_COMMAND}\` and commit the result\n` +
          `  file:      ${writtenLines[line] ?? '(end of file)'}\n  generated: ${currentLines[line] ?? '(end of file)'}`,
      );
    }
  });

  it('describes every environment variable read in src/, as a setting or as another variable', () => {
    const described = new Set([...DESCRIPTORS.flatMap(([, { env }]) => (env === undefined ? [] : [env])), ...OTHER_VARIABLES.map(({ env }) => env)]);
    const undescribed: string[] = [];
    const read = new Set<string>();
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      for (const name of variablesReadIn(readFileSync(file, 'utf8'))) {
        read.add(name);
        if (!described.has(name)) undescribed.push(`${name} (${path.relative(ROOT, file)})`);
      }
    }
    expect(read.size, 'the scan finds the variables read outside loadConfig').to.be.at.least(OTHER_VARIABLES.length);
    expect(undescribed, 'add a descriptor to SETTINGS, or an entry to OTHER_VARIABLES, in src/config/settings.ts').to.deep.equal([]);
    const unread = OTHER_VARIABLES.map(({ env }) => env).filter((name) => !read.has(name));
    expect(unread, 'OTHER_VARIABLES lists variables nothing reads any more').to.deep.equal([]);
  });

  it('gives each setting its own variable', () => {
    const names = DESCRIPTORS.flatMap(([, { env }]) => (env === undefined ? [] : [env]));
    expect(names.filter((name, index) => names.indexOf(name) !== index)).to.deep.equal([]);
  });

  it('checks each setting\'s production rule exactly once, and names only settings that have one', () => {
    const named = DEPLOYMENT_CHECKS.filter((check) => typeof check === 'string');
    const withRule = DESCRIPTORS.filter(([, { production }]) => production !== undefined).map(([setting]) => setting);
    expect([...named].sort()).to.deep.equal([...withRule].sort());
  });

  it('gives every secret an environment variable and writes none into config/', () => {
    const configDir = path.join(ROOT, 'config');
    for (const [setting, { env, secret }] of DESCRIPTORS) {
      if (!secret) continue;
      expect(env, `${setting} is secret, so it needs an environment variable`).to.be.a('string');
      const [group, field] = setting.split('.');
      for (const file of readdirSync(configDir).filter((name) => name.endsWith('.json'))) {
        const settings = JSON.parse(readFileSync(path.join(configDir, file), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
        const value = field === undefined ? settings[group!] : settings[group!]?.[field];
        expect(value, `${setting} in config/${file}`).to.equal(undefined);
      }
    }
  });
});
