// The settings of the dependencies: Redis Cluster selection and every timeout (docs/operations.md "Redis
// Cluster", "Timeouts"); and which errors count as a dependency that cannot serve (503), which not.
import { expect } from 'chai';
import { errors } from 'oidc-provider';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { temporarilyUnavailable } from '../../src/oidc/dependency-faults.ts';
import { isDependencyUnavailable } from '../../src/storage/dependency-faults.ts';

const BASE = { NODE_ENV: 'test', REDIS_URL: 'redis://10.0.0.5:7000' };

function errorFor(environ: Record<string, string>): ConfigError {
  try {
    loadConfig(environ);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail(`expected a ConfigError for ${JSON.stringify(environ)}`);
}

describe('dependency settings', function () {
  it('defaults to one Redis and bounded waits everywhere', function () {
    const config = loadConfig(BASE);
    expect(config.redis).to.deep.equal({ cluster: false, clusterNodes: [], commandTimeoutMs: 1000, connectTimeoutMs: 2000 });
    expect(config.database).to.deep.equal({
      poolMax: 10,
      statementTimeoutMs: 5000,
      queryTimeoutMs: 6000,
      acquireTimeoutMs: 2000,
      connectTimeoutMs: 2000,
    });
  });

  it('selects Redis Cluster with REDIS_CLUSTER=true, with more seed nodes from REDIS_CLUSTER_NODES', function () {
    const config = loadConfig({ ...BASE, REDIS_CLUSTER: 'true', REDIS_CLUSTER_NODES: '10.0.0.6:7000, 10.0.0.7:7000' });
    expect(config.redis.cluster).to.equal(true);
    expect(config.redis.clusterNodes).to.deep.equal(['10.0.0.6:7000', '10.0.0.7:7000']);
  });

  it('reads every timeout from the environment', function () {
    const config = loadConfig({
      ...BASE,
      REDIS_COMMAND_TIMEOUT_MS: '250',
      REDIS_CONNECT_TIMEOUT_MS: '800',
      DATABASE_POOL_MAX: '20',
      DATABASE_STATEMENT_TIMEOUT_MS: '3000',
      DATABASE_QUERY_TIMEOUT_MS: '3500',
      DATABASE_ACQUIRE_TIMEOUT_MS: '500',
      DATABASE_CONNECT_TIMEOUT_MS: '700',
    });
    expect(config.redis).to.include({ commandTimeoutMs: 250, connectTimeoutMs: 800 });
    expect(config.database).to.deep.equal({ poolMax: 20, statementTimeoutMs: 3000, queryTimeoutMs: 3500, acquireTimeoutMs: 500, connectTimeoutMs: 700 });
  });

  it('refuses what cannot work, naming the setting', function () {
    expect(errorFor({ ...BASE, REDIS_CLUSTER: 'yes' }).setting).to.equal('REDIS_CLUSTER');
    expect(errorFor({ ...BASE, REDIS_CLUSTER_NODES: '10.0.0.6:7000' }).setting, 'seeds without cluster mode').to.equal('REDIS_CLUSTER_NODES');
    expect(errorFor({ ...BASE, REDIS_CLUSTER: 'true', REDIS_CLUSTER_NODES: 'not a node' }).setting).to.equal('REDIS_CLUSTER_NODES');
    expect(errorFor({ ...BASE, REDIS_URL: 'redis://10.0.0.5:7000/3', REDIS_CLUSTER: 'true' }).setting, 'a database number').to.equal('REDIS_URL');
    expect(errorFor({ NODE_ENV: 'test', REDIS_CLUSTER: 'true' }).setting, 'no seed node').to.equal('REDIS_CLUSTER');
    expect(errorFor({ ...BASE, REDIS_COMMAND_TIMEOUT_MS: '0' }).setting).to.equal('REDIS_COMMAND_TIMEOUT_MS');
    const order = errorFor({ ...BASE, DATABASE_STATEMENT_TIMEOUT_MS: '5000', DATABASE_QUERY_TIMEOUT_MS: '5000' });
    expect(order.setting).to.equal('DATABASE_QUERY_TIMEOUT_MS');
    expect(order.message).to.include('DATABASE_STATEMENT_TIMEOUT_MS');
  });
});

describe('which failures mean a dependency cannot serve', function () {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  it('counts Redis, PostgreSQL and pool failures', function () {
    for (const error of [
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('Command timed out'),
      Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }),
      new Error('CLUSTERDOWN The cluster is down'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('canceling statement due to statement timeout', '57014'),
      withCode('terminating connection due to administrator command', '57P01'),
      new Error('Connection terminated unexpectedly'),
      new Error('Query read timeout'),
      Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }),
      new Error('wrapped', { cause: withCode('read ECONNRESET', 'ECONNRESET') }),
      temporarilyUnavailable(),
    ]) {
      expect(isDependencyUnavailable(error), error.message).to.equal(true);
    }
  });

  it('leaves bugs, bad data and protocol errors alone (they stay 500 or their own 4xx)', function () {
    for (const error of [
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      withCode('duplicate key value violates unique constraint', '23505'),
      new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
      new errors.InvalidGrant('grant request is invalid'),
      new errors.TemporarilyUnavailable('a 400 of its own'),
    ]) {
      expect(isDependencyUnavailable(error), error.message).to.equal(false);
    }
  });

  it('answers temporarily_unavailable with 503, exposed as an OAuth error', function () {
    const error = temporarilyUnavailable();
    expect(error).to.include({ error: 'temporarily_unavailable', status: 503, statusCode: 503, expose: true });
  });
});
