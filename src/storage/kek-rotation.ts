// Rotation of the key-encryption key: every sealed value in PostgreSQL is opened under the old key and
// sealed again under the new one, in one transaction. A value that opens under neither key stops it
// and nothing is changed. A `*_sealed` column this module does not know also stops it: a value left
// under the old key would be lost with that key.
import type { Database } from './database.ts';
import { KeyEncryption } from './key-encryption.ts';

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
type Row = Record<string, string | null>;

/** Where sealed values live and the associated data each was sealed with (see the code that seals them). */
interface SealedColumn {
  readonly table: string;
  readonly column: string;
  /** The primary key, for batches and for naming a value in an error. */
  readonly id: string;
  /** Other columns the context needs. */
  readonly with?: readonly string[];
  readonly context: (row: Row) => string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'signing_keys', column: 'private_jwk_sealed', id: 'kid', context: (row) => `signing-key:${row.kid}` },
  { table: 'cookie_keys', column: 'key_sealed', id: 'id', context: (row) => `cookie-key:${row.id}` },
  { table: 'clients', column: 'secret_sealed', id: 'client_id', context: (row) => `client:${row.client_id}` },
  { table: 'clients', column: 'retired_secret_sealed', id: 'client_id', context: (row) => `client:${row.client_id}` },
  { table: 'accounts', column: 'totp_secret_sealed', id: 'id', with: ['national_id'], context: (row) => `totp:${row.national_id}` },
];

const BATCH = 500;
// The same lock as signing-key creation (src/oidc/keys/keys.ts): no instance makes a key meanwhile.
const KEY_CREATION_LOCK = 0x6369_6470;

/** Refused before anything changed (the CLI exits 2). */
export class KekRotationError extends Error {
  override readonly name = 'KekRotationError';
}

export interface KekRotationSummary {
  /** Per `table.column`: values sealed again under the new key, and those already under it. */
  readonly columns: Record<string, { resealed: number; alreadyNew: number }>;
}

export async function rotateKeyEncryptionKey(db: Database, oldKey: Buffer, newKey: Buffer): Promise<KekRotationSummary> {
  if (oldKey.equals(newKey)) throw new KekRotationError('NEW_KEY_ENCRYPTION_KEY is the same as KEY_ENCRYPTION_KEY');
  const before = new KeyEncryption(oldKey);
  const after = new KeyEncryption(newKey);
  return db.transaction(async (trx) => {
    await refuseUnknownSealedColumns(trx);
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [KEY_CREATION_LOCK]);
    // Writers wait until the commit: nothing can be sealed under the old key after its rows were read.
    const tables = [...new Set(SEALED_COLUMNS.map((sealed) => sealed.table))];
    await trx.raw(`LOCK TABLE ${tables.map((table) => `"${table}"`).join(', ')} IN EXCLUSIVE MODE`);
    const columns: KekRotationSummary['columns'] = {};
    for (const sealed of SEALED_COLUMNS) {
      columns[`${sealed.table}.${sealed.column}`] = await resealColumn(trx, sealed, before, after);
    }
    return { columns };
  });
}

async function refuseUnknownSealedColumns(trx: Transaction): Promise<void> {
  const { rows } = await trx.raw<{ rows: { table_name: string; column_name: string }[] }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name LIKE '%\\_sealed' ORDER BY table_name, column_name`,
  );
  const known = new Set(SEALED_COLUMNS.map((sealed) => `${sealed.table}.${sealed.column}`));
  const unknown = rows.map((row) => `${row.table_name}.${row.column_name}`).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new KekRotationError(`sealed column(s) ${unknown.join(', ')} unknown to the rotation: add them to SEALED_COLUMNS (src/storage/kek-rotation.ts); nothing was changed`);
  }
}

async function resealColumn(trx: Transaction, sealed: SealedColumn, before: KeyEncryption, after: KeyEncryption) {
  let resealed = 0;
  let alreadyNew = 0;
  let last: string | undefined;
  for (;;) {
    const query = trx(sealed.table)
      .select(sealed.id, sealed.column, ...(sealed.with ?? []))
      .whereNotNull(sealed.column)
      .orderBy(sealed.id)
      .limit(BATCH);
    if (last !== undefined) void query.where(sealed.id, '>', last);
    const rows = (await query) as Row[];
    if (rows.length === 0) break;
    for (const row of rows) {
      const context = sealed.context(row);
      const value = row[sealed.column]!;
      let plaintext: string;
      try {
        plaintext = before.open(value, context);
      } catch {
        // Already under the new key: a rotation run again after instances began sealing under it.
        try {
          after.open(value, context);
          alreadyNew += 1;
          continue;
        } catch {
          throw new KekRotationError(
            `${sealed.table}.${sealed.column} of ${sealed.id} ${JSON.stringify(row[sealed.id])} opens under neither KEY_ENCRYPTION_KEY nor NEW_KEY_ENCRYPTION_KEY; nothing was changed`,
          );
        }
      }
      await trx(sealed.table)
        .where(sealed.id, row[sealed.id])
        .update({ [sealed.column]: after.seal(plaintext, context) });
      resealed += 1;
    }
    last = String(rows[rows.length - 1]![sealed.id]);
  }
  return { resealed, alreadyNew };
}
