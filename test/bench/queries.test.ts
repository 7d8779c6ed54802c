// The PostgreSQL statements and Redis commands each counted request costs (npm run bench:queries,
// bench/queries.ts), exactly: the counts are deterministic — each request runs in a context of its
// own and only what it sends counts — so a change that adds a read to a hot path fails here, not in
// a throughput figure on a shared machine. A sign-in is the whole flow (authorize, login page,
// password, resume, token) of a citizen who consented before; docs/benchmarks.md explains each count.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Counts {
  statements: number;
  auditRows: number;
  redisCommands: number;
  redisRoundTrips: number;
  byCommand: Record<string, number>;
}

describe('bench:queries counts per request', function () {
  this.timeout(180_000);
  let counts: Record<string, Counts>;

  before(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bench/queries.ts', '--requests', '4', '--json'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_POSTGRES_URL: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
      maxBuffer: 10 * 2 ** 20,
    });
    counts = JSON.parse(stdout) as Record<string, Counts>;
  });

  const pick = ({ statements, auditRows, redisCommands, redisRoundTrips }: Counts) => ({ statements, auditRows, redisCommands, redisRoundTrips });

  it('a client-credentials grant: no statement, its audit row, the client generation and the token (one script) in 2 Redis round trips', () => {
    expect(pick(counts['client credentials']!)).to.deep.equal({ statements: 0, auditRows: 1, redisCommands: 2, redisRoundTrips: 2 });
  });

  it('an introspection of a client-credentials token: no statement, 2 Redis reads (its value is no access token’s)', () => {
    expect(pick(counts.introspection!)).to.deep.equal({ statements: 0, auditRows: 0, redisCommands: 2, redisRoundTrips: 2 });
  });

  it('a refresh with rotation: token + grant + account + record in one statement, consume, new token; no Redis probe (the client generation answered)', () => {
    expect(pick(counts['refresh with rotation']!)).to.deep.equal({ statements: 3, auditRows: 1, redisCommands: 3, redisRoundTrips: 3 });
  });

  it('userinfo: account + record + grant in one statement, its audit row; the session found by its uid in one script', () => {
    expect(pick(counts.userinfo!)).to.deep.equal({ statements: 1, auditRows: 1, redisCommands: 3, redisRoundTrips: 3 });
    expect(counts.userinfo!.byCommand).to.deep.equal({ HMGET: 1, EVALSHA: 1, GET: 1 });
  });

  it('a password sign-in: each request reads its Interaction once, the login page writes nothing, 26 Redis round trips', () => {
    expect(pick(counts['sign-in']!)).to.deep.equal({ statements: 10, auditRows: 2, redisCommands: 27, redisRoundTrips: 26 });
    // Written once at the authorization request and once by the login; read once by each of the login
    // page, the login and the resume (then destroyed); no passkey challenge written (SET is the session's uid index only);
    // the token request finds the session by its uid in one script (its HMGET is in the script).
    expect(counts['sign-in']!.byCommand).to.deep.include({ HMGET: 4, SET: 1, DEL: 3 });
  });
});
