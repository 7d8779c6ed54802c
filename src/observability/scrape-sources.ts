// What the metrics read from a running container at scrape time: dependency health, the PostgreSQL
// pool, the signing keys in service, certificate expiry and the back-channel logout and notification backlogs.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Config } from '../config/config.ts';
import type { Database } from '../storage/database.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { ScrapeSources } from './metrics.ts';

/** The earliest expiry among the certificates of a PEM file (a CA bundle holds several). */
export function earliestExpiry(pem: string): Date | undefined {
  let earliest: Date | undefined;
  for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    const notAfter = new Date(new X509Certificate(block).validTo);
    if (!earliest || notAfter < earliest) earliest = notAfter;
  }
  return earliest;
}

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

export function scrapeSources(deps: {
  config: Config;
  db: Database;
  ephemeral: EphemeralStore;
  signingKeys: () => Promise<readonly { alg: string; state: string; activeFrom: Date }[]>;
  backchannelBacklog: () => Promise<{ pending: number; oldestSeconds: number }>;
  notificationBacklog: () => Promise<{ pending: number; oldestSeconds: number }>;
}): ScrapeSources {
  const { config, db, ephemeral } = deps;
  // Files read at each scrape, so a renewed certificate shows without a restart.
  const certificateFiles = Object.entries({
    'registry-client': config.registry.clientCert,
    'registry-ca': config.registry.ca,
    'mtls-ca': config.mtls.caFile,
  }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const up = (probe: () => Promise<unknown>) =>
    probe().then(
      () => true,
      () => false,
    );
  return {
    async dependencies(): Promise<Record<string, boolean>> {
      const [postgres, redis] = await Promise.all([up(() => db.raw('SELECT 1')), up(() => ephemeral.ping())]);
      // Without REDIS_URL the store is this process's memory: not a dependency.
      return config.redisUrl ? { postgres, redis } : { postgres };
    },
    databasePool() {
      const pool = (db.client as { pool?: TarnPool }).pool;
      return pool && { used: pool.numUsed(), free: pool.numFree(), pendingAcquires: pool.numPendingAcquires(), pendingCreates: pool.numPendingCreates() };
    },
    async signingKeys() {
      return (await deps.signingKeys()).filter((key) => key.state === 'active');
    },
    signingKeyRotationSeconds: config.keys.rotationDays * 86_400,
    certificates() {
      const found: { name: string; notAfter: Date }[] = [];
      for (const [name, file] of certificateFiles) {
        try {
          const notAfter = earliestExpiry(readFileSync(file, 'utf8'));
          if (notAfter) found.push({ name, notAfter });
        } catch {
          // An unreadable file shows as a missing series; the component using it reports the error.
        }
      }
      return found;
    },
    backchannelBacklog: deps.backchannelBacklog,
    notificationBacklog: deps.notificationBacklog,
  };
}
