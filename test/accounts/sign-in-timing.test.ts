// An unknown ID number must cost what a wrong password costs, so timing cannot tell who has an
// account. Measured on the sign-in service itself (real PostgreSQL, real argon2), 500 tries each,
// interleaved so that machine noise falls on both alike.
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { PasswordSignIn } from '../../src/accounts/sign-in.ts';
import { BruteForceGuard } from '../../src/accounts/brute-force.ts';
import { MemoryEphemeralStore } from '../../src/storage/ephemeral-store-memory.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const TRIES = 500;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('sign-in timing', function () {
  this.timeout(180_000);
  let world: RunningServer;

  before(async () => {
    world = await startTestServer();
  });
  after(() => world?.close());

  it('costs the same for an unknown ID number as for a wrong password (medians within 5% of one argon2 verify)', async () => {
    const { container } = world.server;
    // No lock may end the experiment early: a guard that never locks, on its own store.
    const guard = new BruteForceGuard(new MemoryEphemeralStore(), container.audit, {
      failuresBeforeLock: Number.MAX_SAFE_INTEGER,
      firstLockSeconds: 60,
      maxLockSeconds: 60,
      attemptsPerAddressPerMinute: Number.MAX_SAFE_INTEGER,
    });
    const signIn = new PasswordSignIn({
      accounts: container.accounts,
      registry: container.registryGateway,
      hasher: container.passwords,
      audit: container.audit,
      bruteForce: guard,
    });
    const hash = await container.passwords.hash('the reference password');
    const unknown: number[] = [];
    const wrong: number[] = [];
    const verify: number[] = [];
    for (let attempt = 0; attempt < TRIES; attempt += 1) {
      let started = performance.now();
      const a = await signIn.signIn(`0311990${String(attempt).padStart(5, '0')}`, 'a wrong password', {});
      unknown.push(performance.now() - started);
      started = performance.now();
      const b = await signIn.signIn('079185000123', 'a wrong password', {});
      wrong.push(performance.now() - started);
      expect(a.outcome).to.equal('invalid-credentials');
      expect(b.outcome).to.equal('invalid-credentials');
      if (attempt % 10 === 0) {
        started = performance.now();
        await container.passwords.verify(hash, 'the reference password');
        verify.push(performance.now() - started);
      }
    }
    const difference = Math.abs(median(unknown) - median(wrong));
    const oneVerify = median(verify);
    console.log(
      `      unknown ${median(unknown).toFixed(2)} ms, wrong password ${median(wrong).toFixed(2)} ms, one argon2 verify ${oneVerify.toFixed(2)} ms`,
    );
    expect(difference).to.be.lessThan(0.05 * oneVerify);
  });
});
