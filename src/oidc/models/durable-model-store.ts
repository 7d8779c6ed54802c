// Provider models that must survive a restart (grants, refresh tokens, registration tokens) in
// PostgreSQL's oidc_models table. Expired rows are ignored on read and purged in batches.
import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../../storage/database.ts';
import type { ConsumeOutcome } from '../../storage/ephemeral-store.ts';
import type { ModelStore } from './model-store.ts';
import { prepared } from '../../storage/prepared.ts';
import type { TokenHolderRow } from './token-holder.ts';

interface ModelRow {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

// The statements a refresh writes, as fixed text rather than built by knex's query builder on every call
// (issue 19: the builder's compiling cost the provider more CPU than the statement's own round trip
// in the refresh profile, docs/benchmarks.md "CPU per request per process"). Same text, same prepared names.
const UPSERT = `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
  user_code = excluded.user_code, expires_at = excluded.expires_at`;
// One statement: the row lock makes concurrent updates queue, and only the first sees NULL.
const CONSUME = `UPDATE oidc_models SET consumed_at = CURRENT_TIMESTAMP WHERE model = ? AND id = ? AND consumed_at IS NULL`;

export class DurableModelStore implements ModelStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async upsert(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    const expiresAt = expiresIn === undefined ? null : new Date(Date.now() + expiresIn * 1000);
    await this.#db
      .raw(UPSERT, [
        model,
        id,
        JSON.stringify(payload),
        typeof payload.grantId === 'string' ? payload.grantId : null,
        typeof payload.uid === 'string' ? payload.uid : null,
        typeof payload.userCode === 'string' ? payload.userCode : null,
        expiresAt,
      ])
      .options(prepared('oidc-models-upsert'));
  }

  async #findWhere(where: Record<string, string>): Promise<AdapterPayload | undefined> {
    const row = await this.#db<ModelRow>('oidc_models')
      .select('payload', 'consumed_at')
      .where(where)
      .andWhere((query) => {
        void query.whereNull('expires_at').orWhere('expires_at', '>', this.#db.fn.now());
      })
      .first()
      .options(prepared(`oidc-models-find-${Object.keys(where).join('-')}`));
    if (!row) return undefined;
    return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
  }

  find(model: string, id: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere({ model, id });
  }

  /**
   * One statement for a token, its live grant (the primary key finds both) and the account behind it with
   * its holder's registry record (as src/oidc/models/token-holder.ts reads them, jsonb rows): a refresh's
   * first three reads (issue 19: four statements per refresh → three).
   */
  async findWithGrant(model: string, id: string): Promise<{ payload: AdapterPayload; grant: AdapterPayload | undefined; holder?: TokenHolderRow } | undefined> {
    const { rows } = await this.#db.raw<{ rows: (ModelRow & { grant_payload: AdapterPayload | null } & { account: TokenHolderRow['account'] | null; registry_record: TokenHolderRow['registry_record'] })[] }>(
      `SELECT t.payload, t.consumed_at, g.payload AS grant_payload, to_jsonb(a) AS account, to_jsonb(r) AS registry_record
         FROM oidc_models t
         LEFT JOIN oidc_models g
           ON g.model = 'Grant' AND g.id = t.grant_id AND (g.expires_at IS NULL OR g.expires_at > CURRENT_TIMESTAMP)
         LEFT JOIN accounts a
           ON a.id = CASE WHEN t.payload->>'accountId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                          THEN (t.payload->>'accountId')::uuid END
         LEFT JOIN registry_records r ON r.national_id = a.national_id
        WHERE t.model = ? AND t.id = ? AND (t.expires_at IS NULL OR t.expires_at > CURRENT_TIMESTAMP)
        LIMIT 1`,
      [model, id],
    ).options(prepared('oidc-models-find-with-grant'));
    const row = rows[0];
    if (!row) return undefined;
    const payload = row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
    return { payload, grant: row.grant_payload ?? undefined, ...(row.account && { holder: { account: row.account, registry_record: row.registry_record } }) };
  }

  /**
   * The id of the citizen's newest live grant to a client: consent is remembered per client, across
   * sessions, until it expires or is withdrawn.
   */
  async standingGrantId(accountId: string, clientId: string): Promise<string | undefined> {
    const row = await this.#db<{ id: string }>('oidc_models')
      .first('id')
      .where('model', 'Grant')
      .whereRaw(`payload->>'accountId' = ? AND payload->>'clientId' = ?`, [accountId, clientId])
      .andWhere((query) => {
        void query.whereNull('expires_at').orWhere('expires_at', '>', this.#db.fn.now());
      })
      .orderByRaw(`(payload->>'iat')::bigint DESC`)
      .options(prepared('standing-grant'));
    return row?.id;
  }

  findByUid(model: string, uid: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere({ model, uid });
  }

  findByUserCode(model: string, userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere({ model, user_code: userCode });
  }

  async consume(model: string, id: string): Promise<ConsumeOutcome> {
    const { rowCount } = await this.#db.raw<{ rowCount: number | null }>(CONSUME, [model, id]).options(prepared('oidc-models-consume'));
    if (rowCount === 1) return 'consumed';
    const exists: unknown = await this.#db('oidc_models').where({ model, id }).first('id').options(prepared('oidc-models-exists'));
    return exists ? 'already-consumed' : 'missing';
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#db('oidc_models').where({ model, id }).delete().options(prepared('oidc-models-destroy'));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#db('oidc_models').where({ grant_id: grantId }).delete();
  }

  /**
   * Removes every grant and refresh token of one account, including those no session holds any more
   * (offline access), and whatever else was issued under those grants; returns the grant ids.
   */
  async revokeByAccountId(accountId: string): Promise<string[]> {
    return this.#db.transaction(async (trx) => {
      const removed = await trx<{ model: string; id: string; grant_id: string | null }>('oidc_models')
        .whereIn('model', ['Grant', 'RefreshToken'])
        .whereRaw(`payload->>'accountId' = ?`, [accountId])
        .delete()
        .returning(['model', 'id', 'grant_id']);
      const grantIds = [...new Set(removed.map((row) => (row.model === 'Grant' ? row.id : row.grant_id)).filter((id) => id !== null))];
      if (grantIds.length > 0) await trx('oidc_models').whereIn('grant_id', grantIds).delete();
      return grantIds;
    });
  }

  /** Deletes up to `batch` expired rows; returns how many went. */
  async purgeExpired(batch = 1000): Promise<number> {
    const result = await this.#db.raw<{ rowCount: number }>(
      `DELETE FROM oidc_models WHERE ctid IN (
         SELECT ctid FROM oidc_models WHERE expires_at < now() LIMIT ?)`,
      [batch],
    );
    return result.rowCount;
  }
}
