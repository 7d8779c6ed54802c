// Only derived keys leave the composition root (docs/design.md "Layout"): the key-encryption key and
// the pairwise key are resolved by src/container.ts for the server and by src/cli.ts for commands.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';

const SRC = path.join(import.meta.dirname, '../../src');

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('secrets in the composition root', () => {
  it('resolves the root secrets in src/container.ts and src/cli.ts only', async () => {
    const callers: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      if (/\bresolveSecrets\(config\)/.test(await readFile(file, 'utf8'))) callers.push(path.relative(SRC, file));
    }
    expect(callers.sort()).to.deep.equal(['cli.ts', 'container.ts']);
  });
});
