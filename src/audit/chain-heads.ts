// Signed chain heads, kept outside PostgreSQL (docs/design.md, docs/administration.md "Audit trail"). Each writer's hash
// chain shows an edit, a removal or a reordering inside it — but not someone with database rights who
// deletes the chain's tail, or rewrites events and recomputes every hash after them: the chain is then
// intact again. So, periodically, the head of every chain ({writerId, seq, hash, at}) is exported to a
// file stored elsewhere, with an HMAC-SHA256 under AUDIT_HEADS_KEY; `audit verify --heads FILE` checks
// that each head is still in the table, at the same seq with the same hash.
//
// Why an HMAC under a key from the environment rather than an Ed25519 key sealed in the database: the
// threat is someone who can write to PostgreSQL. A signing key kept there (even sealed) comes with a
// public key kept there, which that person could swap for their own; a key that never touches the
// database cannot be swapped or used by them. The cost: whoever verifies holds the key (the operators,
// as they hold KEY_ENCRYPTION_KEY). It is a key of its own, not one derived from KEY_ENCRYPTION_KEY, so
// rotating that key leaves every exported file verifiable.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../storage/database.ts';
import type { AuditLog } from './audit-log.ts';

export const HEADS_FORMAT = 'citizen-idp/audit-chain-heads/1';

export interface ChainHead {
  readonly writerId: string;
  readonly seq: number;
  readonly hash: string;
  /** When the head event occurred (ISO 8601). */
  readonly at: string;
}

export interface HeadsFile {
  readonly format: typeof HEADS_FORMAT;
  readonly exportedAt: string;
  /** Which key signed (the first 16 hex digits of its SHA-256): tells a wrong key from a forgery. */
  readonly keyId: string;
  readonly heads: readonly ChainHead[];
  readonly mac: string;
}

/** The heads file is refused: not one, or not signed by this key. */
export class HeadsFileRefused extends Error {
  override readonly name = 'HeadsFileRefused';
}

const keyIdOf = (key: Buffer) => createHash('sha256').update('audit-heads-key-id\n').update(key).digest('hex').slice(0, 16);

/** The signed text: fixed key order, so the MAC does not depend on how a file was re-serialised. */
function signedText(file: Omit<HeadsFile, 'mac'>): string {
  return JSON.stringify({
    format: file.format,
    exportedAt: file.exportedAt,
    keyId: file.keyId,
    heads: file.heads.map((head) => ({ writerId: head.writerId, seq: head.seq, hash: head.hash, at: head.at })),
  });
}

const macOf = (key: Buffer, file: Omit<HeadsFile, 'mac'>) => createHmac('sha256', key).update(signedText(file)).digest('hex');

/** The head of every writer's chain, now, signed. */
export async function exportChainHeads(db: Database, key: Buffer, now = new Date()): Promise<HeadsFile> {
  const rows = await db('audit_events')
    .distinctOn('writer_id')
    .select<{ writer_id: string; seq: string; hash: string; occurred_at: Date }[]>('writer_id', 'seq', 'hash', 'occurred_at')
    .orderBy([{ column: 'writer_id' }, { column: 'seq', order: 'desc' }]);
  const unsigned = {
    format: HEADS_FORMAT,
    exportedAt: now.toISOString(),
    keyId: keyIdOf(key),
    heads: rows.map((row) => ({ writerId: row.writer_id, seq: Number(row.seq), hash: row.hash, at: row.occurred_at.toISOString() })),
  } as const;
  return { ...unsigned, mac: macOf(key, unsigned) };
}

const headsFileSchema = z.object({
  format: z.literal(HEADS_FORMAT),
  exportedAt: z.string(),
  keyId: z.string(),
  heads: z.array(z.object({ writerId: z.string(), seq: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/), at: z.string() })),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Parses a heads file and checks its MAC; throws HeadsFileRefused otherwise. */
export function openHeadsFile(text: string, key: Buffer): HeadsFile {
  let parsed;
  try {
    parsed = headsFileSchema.safeParse(JSON.parse(text));
  } catch {
    throw new HeadsFileRefused('not JSON');
  }
  if (!parsed.success) throw new HeadsFileRefused(`not a chain-heads file (${parsed.error.issues[0]?.message ?? 'bad shape'})`);
  const file = parsed.data;
  if (file.keyId !== keyIdOf(key)) throw new HeadsFileRefused(`signed with another key (${file.keyId}), not this AUDIT_HEADS_KEY (${keyIdOf(key)})`);
  const expected = Buffer.from(macOf(key, file), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(file.mac, 'hex'))) throw new HeadsFileRefused('the signature does not verify: the file was altered or forged');
  return { ...file, format: HEADS_FORMAT };
}

export type HeadCheck =
  | { readonly writerId: string; readonly seq: number; readonly outcome: 'present' }
  /** The event at the head's seq is gone: the chain's tail (or the whole chain) was deleted. */
  | { readonly writerId: string; readonly seq: number; readonly outcome: 'missing' }
  /** An event is at that seq, with another hash: the chain was rewritten and re-hashed. */
  | { readonly writerId: string; readonly seq: number; readonly outcome: 'mismatch' };

export async function checkHeads(db: Database, file: HeadsFile): Promise<HeadCheck[]> {
  const checks: HeadCheck[] = [];
  for (const head of file.heads) {
    const row = await db('audit_events').where({ writer_id: head.writerId, seq: head.seq }).first<{ hash: string } | undefined>('hash');
    const outcome = !row ? 'missing' : row.hash === head.hash ? 'present' : 'mismatch';
    checks.push({ writerId: head.writerId, seq: head.seq, outcome });
  }
  return checks;
}

export interface TrailVerification {
  readonly ok: boolean;
  readonly chains: Awaited<ReturnType<AuditLog['verifyChain']>>[];
  readonly heads: HeadCheck[];
}

/** Every writer's chain, and every head of the given (already opened) heads files. */
export async function verifyTrail(db: Database, log: Pick<AuditLog, 'verifyChain' | 'writers'>, headsFiles: readonly HeadsFile[]): Promise<TrailVerification> {
  const chains = [];
  for (const writerId of (await log.writers()).sort()) chains.push(await log.verifyChain(writerId));
  const heads = [];
  for (const file of headsFiles) heads.push(...(await checkHeads(db, file)));
  return { ok: chains.every((chain) => chain.intact) && heads.every((head) => head.outcome === 'present'), chains, heads };
}
