// Named prepared statements for the hot paths (issue 19): a statement given `.options(prepared(name))`
// is parsed and planned once per pooled connection rather than on every request — the token-holder
// read cost PostgreSQL about 200 µs of CPU a time unprepared, 35 µs prepared (docs/benchmarks.md "CPU
// per request per process"). Only for a statement whose text never varies under one name, and never
// for one whose result columns can change: PostgreSQL refuses to run a prepared `SELECT *` once its
// table gained a column ("cached plan must not change result type"), on every connection that
// prepared it — during a rolling deploy's expanding migration, the old instances would fail until
// restarted. So name the columns, or return a row as one jsonb value (src/oidc/models/token-holder.ts).
// A pooler in between must keep prepared statements per server connection (PgBouncer 1.21+ with
// max_prepared_statements, or session pooling).

/** knex query options (passed through to node-postgres) naming the statement `cidp-<name>`. */
export const prepared = (name: string) => ({ name: `cidp-${name}` });
