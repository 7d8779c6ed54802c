// The whole flow on a three-master Redis Cluster started here on loopback ports (REDIS_CLUSTER=true):
// sign-in, consent, code, token, refresh, userinfo, logout. The keys land on several masters, so
// every operation had to find its keys in one slot (a cross-slot command is an error on a cluster).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-servers.ts';
import { Portal, raw, showsLogin } from '../support/rp-flow.ts';

describe('on a Redis Cluster (three masters, end to end)', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let world: RunningServer;
  let portal: Portal;

  before(async function () {
    cluster = await startRedisCluster();
    world = await startTestServer({ overrides: { redisUrl: cluster.url, redis: { cluster: true } } });
    portal = new Portal(world.issuer);
  });

  after(async function () {
    await world?.close();
    await cluster?.destroy();
  });

  it('is ready, every master refusing eviction', async function () {
    const ready = await raw(`${world.issuer}/readyz`);
    expect(ready.status).to.equal(200);
    expect(ready.body.checks).to.include({ ephemeral: 'ok' });
  });

  it('signs in, redeems, refreshes, answers userinfo and logs out', async function () {
    const browser = new Browser(world.issuer);
    const tokens = await portal.signIn(browser);
    const sub = tokens.claims()!.sub;

    const refreshed = await portal.refresh(tokens.refresh_token!);
    expect(refreshed.refresh_token, 'rotated').to.be.a('string').and.not.equal(tokens.refresh_token);
    const info = await portal.userinfo(refreshed.access_token, sub);
    expect(info.sub).to.equal(sub);

    // The items of one sign-in (session, interaction, code, tokens, grant index) spread over masters.
    const prefix = world.config.redisKeyPrefix;
    const holders = await Promise.all(
      cluster.ports.map(async (port) => {
        const node = new Redis({ port, host: '127.0.0.1' });
        try {
          return (await node.keys(`${prefix}*`)).length;
        } finally {
          node.disconnect();
        }
      }),
    );
    expect(holders.filter((count) => count > 0).length, `keys per master: ${holders.join(', ')}`).to.be.at.least(2);

    expect(await showsLogin(portal, browser), 'signed in: no password asked').to.equal(false);
    await portal.logOut(browser, refreshed.id_token ?? tokens.id_token!);
    expect(await showsLogin(portal, browser), 'after logout the password is asked again').to.equal(true);

    // The old refresh token was rotated away: reuse is refused (consumption went through the cluster).
    const reuse = await portal.rawRefresh(tokens.refresh_token!);
    expect(reuse.status).to.equal(400);
    expect(reuse.body.error).to.equal('invalid_grant');
  });
});
