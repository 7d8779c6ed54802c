// `chip issue` (docs/chip-verification.md "Test chips"): writes a test chip for a registry record (dead
// or alive) — DIR/sod.bin, dg1.bin, dg2.bin, dg13.bin — signed by the quickstart's test document
// signer (DATA_DIR/chip-test-authority/). Never in production. Also reads a chip folder for
// `accounts raise-level --chip DIR`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RegistryRecord } from '../registry/registry.ts';
import type { ChipRead } from './chip-verification.ts';
import { ensureTestAuthority, issueTestChip, writeChip } from './test-chip.ts';

export const CHIP_CLI_USAGE = `  chip issue --id ID --out DIR    write a TEST chip for the registry record ID (dead or alive):
                                   DIR/sod.bin, dg1.bin, dg2.bin, dg13.bin, signed by the quickstart's
                                   test document signer (DATA_DIR/chip-test-authority/); never in production`;

export class ChipCommandRefused extends Error {
  override readonly name = 'ChipCommandRefused';
}

export interface ChipCommandDeps {
  readonly production: boolean;
  readonly dataDir: string;
  readonly findRecord: (nationalId: string) => Promise<RegistryRecord | undefined>;
}

/** Runs `chip <command>`; resolves to the exit status (2: refused, nothing written). */
export async function chipCommand(command: string, args: string[], deps: ChipCommandDeps): Promise<number> {
  if (command !== 'issue') throw new ChipCommandRefused(`unknown command "chip ${command}"`);
  let values: { id?: string | undefined; out?: string | undefined };
  try {
    ({ values } = parseArgs({ args, options: { id: { type: 'string' }, out: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ChipCommandRefused((error as Error).message);
  }
  if (deps.production) throw new ChipCommandRefused('test chips are never issued in production (NODE_ENV=production)');
  if (!values.id || !/^\d{12}$/.test(values.id)) throw new ChipCommandRefused('--id: a 12-digit ID number is required');
  if (!values.out) throw new ChipCommandRefused('--out: a folder is required');
  const record = await deps.findRecord(values.id);
  if (!record) throw new ChipCommandRefused(`${values.id}: no such registry record`);
  if (!record.idCardIssueDate) throw new ChipCommandRefused(`${values.id}: the registry shows no identity card`);
  const { documentSigner } = await ensureTestAuthority(deps.dataDir);
  const files = writeChip(values.out, await issueTestChip(record, documentSigner));
  console.log(`TEST chip of ${record.nationalId} (${record.fullName}${record.diedOn ? ', deceased' : ''}) written:`);
  for (const file of files) console.log(`  ${file}`);
  return 0;
}

/** The chip read in DIR (sod.bin, dg1.bin, dg13.bin, and dg2.bin when present). */
export function readChipFolder(dir: string): ChipRead {
  const file = (name: string) => path.join(dir, `${name}.bin`);
  for (const name of ['sod', 'dg1', 'dg13']) {
    if (!existsSync(file(name))) throw new ChipCommandRefused(`--chip: ${file(name)} is missing`);
  }
  return {
    sod: readFileSync(file('sod')),
    dg1: readFileSync(file('dg1')),
    dg13: readFileSync(file('dg13')),
    ...(existsSync(file('dg2')) && { dg2: readFileSync(file('dg2')) }),
  };
}
