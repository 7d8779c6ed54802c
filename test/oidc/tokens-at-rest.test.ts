// A copy of the stores lets nobody in (issue 20, src/oidc/models/tokens-at-rest.ts): after a real sign-in
// with openid-client — an authorization code, an access token, a refresh token, a refresh — every row of
// every PostgreSQL table and every key and value under the server's Redis prefix is read out as text,
// and none holds any of those values; the tokens still work, and a stored digest presented as a token
// does not.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Browser } from '../support/browserless.ts';
import { BICH, Portal } from '../support/rp-flow.ts';
import { startTestServer, TEST_REDIS_URL, type RunningServer } from '../support/world.ts';

/** Every row of every table in the public schema, as PostgreSQL's text form of the row. */
async function dumpPostgres(world: RunningServer): Promise<string> {
  const db = world.server.container.db;
  const tables = await db<{ tablename: string }>('pg_tables').select('tablename').where('schemaname', 'public');
  expect(tables.map((table) => table.tablename)).to.include('oidc_models');
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const { rows } = await db.raw<{ rows: { row: string }[] }>('SELECT t::text AS row FROM ?? t', [tablename]);
    parts.push(`-- ${tablename}`, ...rows.map((row) => row.row));
  }
  return parts.join('\n');
}

/** Every key under the server's prefix with its value, whatever its type (SCAN, then the type's read). */
async function dumpRedis(prefix: string): Promise<{ text: string; keys: number }> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const parts: string[] = [];
    let keys = 0;
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of batch) {
        keys += 1;
        const type = await redis.type(key);
        const value =
          type === 'string' ? await redis.get(key)
          : type === 'hash' ? JSON.stringify(await redis.hgetall(key))
          : type === 'set' ? JSON.stringify(await redis.smembers(key))
          : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'))
          : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1))
          : `(${type})`;
        parts.push(`${key} ${value}`);
      }
    } while (cursor !== '0');
    return { text: parts.join('\n'), keys };
  } finally {
    redis.disconnect();
  }
}

describe('tokens at rest: a dump of PostgreSQL and Redis after a sign-in holds no usable token', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let portal: Portal;

  before(async () => {
    world = await startTestServer();
    portal = new Portal(world.issuer);
  });
  after(async () => {
    await world?.close();
  });

  it('finds no authorization code, access token or refresh token value in either store, and the tokens still work', async () => {
    const browser = new Browser(world.issuer);
    const attempt = await portal.start();
    const callback = await browser.signIn(attempt.url, BICH.id, BICH.password, { consent: true });
    const code = callback.searchParams.get('code');
    expect(code, 'the authorization code').to.be.a('string');
    const tokens = await portal.redeem(attempt, callback);
    const sub = tokens.claims()!.sub;
    const refreshed = await portal.refresh(tokens.refresh_token!);
    const values = {
      code: code!,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token!,
      refreshedAccessToken: refreshed.access_token,
      refreshedRefreshToken: refreshed.refresh_token ?? tokens.refresh_token!,
    };
    // Opaque, not JWTs: these are the values a store would have to hold.
    for (const [name, value] of Object.entries(values)) expect(value, name).to.match(/^[\w-]{43,44}$/);

    const postgres = await dumpPostgres(world);
    const redis = await dumpRedis(world.config.redisKeyPrefix);
    expect(postgres, 'the dump holds the grant and refresh token rows').to.include('RefreshToken');
    expect(redis.keys, 'Redis holds the sign-in').to.be.greaterThan(3);
    expect(redis.text).to.include('AccessToken');
    for (const [name, value] of Object.entries(values)) {
      expect(postgres.includes(value), `${name} in PostgreSQL`).to.equal(false);
      expect(redis.text.includes(value), `${name} in Redis`).to.equal(false);
    }

    // Still usable by the one who holds them.
    expect((await portal.userinfo(refreshed.access_token, sub)).sub).to.equal(sub);
    const again = await portal.rawRefresh(values.refreshedRefreshToken);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);

    // What the dump does hold — the stored digests — is no token.
    const digests = [...postgres.matchAll(/h1\.[\w-]{43}/g)].map((match) => match[0]);
    expect(digests, 'digests of refresh tokens in PostgreSQL').to.not.have.length(0);
    for (const digest of new Set(digests)) {
      const answer = await portal.rawRefresh(digest);
      expect(answer.status, digest).to.equal(400);
      expect(answer.body.error).to.equal('invalid_grant');
    }
    const redisDigests = [...new Set([...redis.text.matchAll(/h1\.[\w-]{43}/g)].map((match) => match[0]))];
    expect(redisDigests, 'digests of access tokens in Redis').to.not.have.length(0);
    for (const digest of redisDigests) expect((await portal.rawUserinfo(digest)).status, digest).to.equal(401);
  });
});
