// The audit trail partitioned by month (issue 20, docs/operations.md "Audit partitions and archives"),
// converted while instances write, nothing lost and nothing rewritten:
//   1. a partitioned twin, audit_events_partitioned, with a partition for every month from the oldest
//      event to three months ahead and a default partition for whatever falls outside them;
//   2. under a short lock on audit_events, a trigger that copies every new row into the twin, and the
//      highest id then stored (every row after it is copied by the trigger);
//   3. the rows up to that id copied in batches of 10,000, each its own transaction (writers go on);
//   4. under a short lock, the twin takes the name audit_events; the old table stays, renamed
//      audit_events_unpartitioned, still copying any insert that reaches it, until a later release drops
//      it (contract, docs/operations.md).
// Rows keep their id, hash and time: the hash chains are the same chains.
//
// contract step: safe after 20261208_018_representation: audit_events keeps its name, columns, ids and
// append-only rule, and every earlier release only inserts into it and reads it by those columns; the
// one thing it loses is the UNIQUE (writer_id, seq) index, which a partitioned table cannot hold without
// the partition key — a duplicate seq breaks its chain and `audit verify` reports it. The trigger added
// to the old table only copies each insert; it refuses nothing an earlier release writes.
import type { Knex } from 'knex';

/** Run outside one transaction: the copy must not hold the old table's lock while it runs. */
export const config = { transaction: false };

const BATCH = 10_000;
const MONTHS_AHEAD = 3;

/** `audit_events_y2026m12` for the month starting at `start` (UTC). */
function partitionName(start: Date): string {
  return `audit_events_y${start.getUTCFullYear()}m${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}

export async function up(knex: Knex): Promise<void> {
  const exists = await knex.schema.hasTable('audit_events_partitioned');
  const converted = await knex.schema.hasTable('audit_events_unpartitioned');
  if (converted) return;
  if (!exists) {
    await knex.transaction(async (trx) => {
      await trx.raw(`
        CREATE TABLE audit_events_partitioned (
          id bigint NOT NULL DEFAULT nextval('audit_events_id_seq'),
          writer_id text NOT NULL,
          seq bigint NOT NULL,
          occurred_at timestamptz NOT NULL,
          type text NOT NULL,
          actor text,
          account_id uuid,
          client_id text,
          data jsonb NOT NULL,
          prev_hash text NOT NULL,
          hash text NOT NULL,
          PRIMARY KEY (id, occurred_at)
        ) PARTITION BY RANGE (occurred_at)`);
      await trx.raw('CREATE INDEX audit_events_p_writer_seq ON audit_events_partitioned (writer_id, seq)');
      await trx.raw('CREATE INDEX audit_events_p_account ON audit_events_partitioned (account_id, occurred_at)');
      await trx.raw('CREATE INDEX audit_events_p_type ON audit_events_partitioned (type, occurred_at)');
      await trx.raw('CREATE INDEX audit_events_p_actor ON audit_events_partitioned (actor, occurred_at)');
      await trx.raw('CREATE INDEX audit_events_p_client ON audit_events_partitioned (client_id, occurred_at)');
      await trx.raw('CREATE INDEX audit_events_p_time ON audit_events_partitioned (occurred_at)');
      await trx.raw(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events_partitioned
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
      await trx.raw('CREATE TABLE audit_events_default PARTITION OF audit_events_partitioned DEFAULT');

      const { rows } = await trx.raw<{ rows: { oldest: Date | null }[] }>('SELECT min(occurred_at) AS oldest FROM audit_events');
      const now = new Date();
      const first = rows[0]?.oldest ?? now;
      let month = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1));
      const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + MONTHS_AHEAD, 1));
      while (month <= last) {
        const next = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
        // DDL takes no bind parameters; the name and bounds are made here from dates, nothing from outside.
        await trx.raw(`CREATE TABLE ${partitionName(month)} PARTITION OF audit_events_partitioned FOR VALUES FROM ('${month.toISOString()}') TO ('${next.toISOString()}')`);
        month = next;
      }

      // Archived partitions (src/audit/archive.ts): which file holds them, and their chains' ends.
      await trx.raw(`
        CREATE TABLE audit_archives (
          partition text PRIMARY KEY,
          range_from timestamptz NOT NULL,
          range_to timestamptz NOT NULL,
          events bigint NOT NULL,
          file_name text NOT NULL,
          file_sha256 text NOT NULL,
          segments jsonb NOT NULL,
          archived_at timestamptz NOT NULL DEFAULT now()
        )`);
      await trx.raw(`CREATE TABLE audit_conversion (id int PRIMARY KEY CHECK (id = 1), copied_through bigint NOT NULL, boundary bigint NOT NULL)`);

      // Writers wait here a moment (SHARE ROW EXCLUSIVE), so every row is either stored by now, at or
      // below the boundary, or inserted after, and then copied by the trigger.
      await trx.raw('LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE');
      await trx.raw(`
        CREATE FUNCTION audit_events_copy_to_partitioned() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO audit_events_partitioned (id, writer_id, seq, occurred_at, type, actor, account_id, client_id, data, prev_hash, hash)
          VALUES (NEW.id, NEW.writer_id, NEW.seq, NEW.occurred_at, NEW.type, NEW.actor, NEW.account_id, NEW.client_id, NEW.data, NEW.prev_hash, NEW.hash);
          RETURN NULL;
        END $$`);
      await trx.raw(`CREATE TRIGGER audit_events_copy AFTER INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_copy_to_partitioned()`);
      await trx.raw(`INSERT INTO audit_conversion (id, copied_through, boundary) SELECT 1, 0, coalesce(max(id), 0) FROM audit_events`);
    });
  }

  // The copy, in batches; a migration interrupted here goes on from where it stopped.
  for (;;) {
    const copied = await knex.transaction(async (trx) => {
      const state = (await trx.raw<{ rows: { copied_through: string; boundary: string }[] }>('SELECT copied_through, boundary FROM audit_conversion WHERE id = 1 FOR UPDATE')).rows[0]!;
      if (BigInt(state.copied_through) >= BigInt(state.boundary)) return 0;
      const { rows } = await trx.raw<{ rows: { id: string }[] }>(
        `WITH batch AS (
           SELECT * FROM audit_events WHERE id > ? AND id <= ? ORDER BY id LIMIT ${BATCH}
         ), stored AS (
           INSERT INTO audit_events_partitioned (id, writer_id, seq, occurred_at, type, actor, account_id, client_id, data, prev_hash, hash)
           SELECT id, writer_id, seq, occurred_at, type, actor, account_id, client_id, data, prev_hash, hash FROM batch
           RETURNING id
         )
         SELECT coalesce(max(id), ?) AS id FROM stored`,
        [state.copied_through, state.boundary, state.boundary],
      );
      await trx.raw('UPDATE audit_conversion SET copied_through = ? WHERE id = 1', [rows[0]!.id]);
      return 1;
    });
    if (copied === 0) break;
  }

  // The swap: a moment's ACCESS EXCLUSIVE lock; an insert waiting on it finds the new audit_events.
  await knex.transaction(async (trx) => {
    await trx.raw('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE');
    // The ids' sequence goes with the new table, so that dropping the old one later leaves it.
    await trx.raw('ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events_partitioned.id');
    await trx.raw('ALTER TABLE audit_events RENAME TO audit_events_unpartitioned');
    await trx.raw('ALTER TABLE audit_events_partitioned RENAME TO audit_events');
    // A straggler insert into the old table still reaches the trail under its new name.
    await trx.raw(`
      CREATE OR REPLACE FUNCTION audit_events_copy_to_partitioned() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO audit_events (id, writer_id, seq, occurred_at, type, actor, account_id, client_id, data, prev_hash, hash)
        VALUES (NEW.id, NEW.writer_id, NEW.seq, NEW.occurred_at, NEW.type, NEW.actor, NEW.account_id, NEW.client_id, NEW.data, NEW.prev_hash, NEW.hash);
        RETURN NULL;
      END $$`);
  });
}

export async function down(knex: Knex): Promise<void> {
  // Back to the one table: the old one holds every row up to the swap; the rows written since go back into it.
  if (!(await knex.schema.hasTable('audit_events_unpartitioned'))) return;
  await knex.transaction(async (trx) => {
    await trx.raw('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE');
    await trx.raw('DROP TRIGGER audit_events_copy ON audit_events_unpartitioned');
    await trx.raw('DROP FUNCTION audit_events_copy_to_partitioned()');
    await trx.raw(`INSERT INTO audit_events_unpartitioned SELECT p.* FROM audit_events p
      WHERE NOT EXISTS (SELECT 1 FROM audit_events_unpartitioned u WHERE u.id = p.id)`);
    await trx.raw('ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events_unpartitioned.id');
    await trx.raw('DROP TABLE audit_events');
    await trx.raw('ALTER TABLE audit_events_unpartitioned RENAME TO audit_events');
    await trx.raw('DROP TABLE audit_archives');
    await trx.raw('DROP TABLE audit_conversion');
  });
}
