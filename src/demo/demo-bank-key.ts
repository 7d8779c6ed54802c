// demo-bank's signing key, published in docs/design.md on purpose: a demo key, never used outside the demo.
// The demo data registers its public part; the demo bank (src/demo/bank.ts) and tests sign with it.
import type { JsonWebKey } from 'node:crypto';

export const DEMO_BANK_PRIVATE_JWK = {
  kty: 'EC',
  crv: 'P-256',
  kid: 'demo-bank-2026',
  alg: 'ES256',
  use: 'sig',
  x: 'XkcBBuFzWz-d13tC433oSjPQqCkIIffRSb6nVo6RVcg',
  y: 'H1M1C-PM0HczsNTWCj_JERyS1H3CC5CVJh46Aa45qwQ',
  d: '5tsYP-VcSYC8nRgHQEMw7M0IG3ClwJFc82go9uKVRWQ',
} as const satisfies JsonWebKey;

/** What demo-bank registers: the key without its private part. */
export const DEMO_BANK_PUBLIC_JWK: JsonWebKey = (({ d: _private, ...publicPart }) => publicPart)(DEMO_BANK_PRIVATE_JWK);
