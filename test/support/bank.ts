// What the bank tests share: level-2 citizens of their own (a TOTP code works once per 30-second step
// and account), openid-client configurations for bank clients, and DPoP proofs and client
// assertions made by hand with jose, for the attacks openid-client would never make.
import { randomInt, randomUUID, createHash } from 'node:crypto';
import * as client from 'openid-client';
import { SignJWT, calculateJwkThumbprint, exportJWK, importJWK, type CryptoKey, type JWK } from 'jose';
import type { RunningServer } from './world.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { newTotpSecret } from '../../src/accounts/totp.ts';

export interface Citizen {
  readonly id: string;
  readonly password: string;
  /** TOTP secret (base32). */
  readonly secret: string;
}

/** A fresh level-2 citizen with a TOTP secret of their own, in the world's registry and accounts. */
export async function levelTwoCitizen(world: RunningServer): Promise<Citizen> {
  const template = DEMO_CITIZENS[0]!.record;
  const nationalId = `0010990${String(randomInt(0, 100_000)).padStart(5, '0')}`;
  const secret = newTotpSecret();
  const { container } = world.server;
  await container.registry.upsert({ ...template, nationalId, fullName: 'Hoàng Minh Tâm' });
  await container.accounts.enrol({
    nationalId,
    level: 2,
    passwordHash: await container.passwords.hash('Tam#Bank-2026'),
    totpSecretSealed: container.sealer.seal(secret, `totp:${nationalId}`),
    phoneNumber: null,
    phoneNumberVerified: false,
    email: null,
    emailVerified: false,
  });
  return { id: nationalId, password: 'Tam#Bank-2026', secret };
}

/** A signing key pair with its public JWK (kid, alg, use) as a client registers it. */
export async function signingKey(alg: 'ES256' | 'PS256' | 'RS256' | 'EdDSA', kid: string) {
  const { generateKeyPair } = await import('jose');
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' && { crv: 'Ed25519' }) });
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, use: 'sig' };
  return { privateKey: pair.privateKey, publicJwk, kid, alg };
}

/** openid-client for a private_key_jwt client (http allowed: the tests run on loopback). */
export function discoverBank(
  issuer: string,
  clientId: string,
  key: { privateKey: CryptoKey; kid: string },
  options: { metadata?: Partial<client.ClientMetadata>; fetch?: client.CustomFetch } = {},
): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, options.metadata, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), {
    execute: [client.allowInsecureRequests],
    ...(options.fetch && { [client.customFetch]: options.fetch }),
  });
}

export async function importPrivateJwk(jwk: JWK): Promise<CryptoKey> {
  return (await importJWK(jwk, jwk.alg)) as CryptoKey;
}

/** A client assertion for private_key_jwt made by hand (RFC 7523); `overrides` change its claims. */
export async function clientAssertion(
  key: { privateKey: CryptoKey; kid: string; alg?: string },
  clientId: string,
  audience: string,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud: audience, jti: randomUUID(), iat: now, exp: now + 60, ...overrides })
    .setProtectedHeader({ alg: key.alg ?? 'ES256', kid: key.kid })
    .sign(key.privateKey);
}

export interface DpopKey {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly thumbprint: string;
}

export async function dpopKey(): Promise<DpopKey> {
  const pair = await client.randomDPoPKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk) };
}

/** A DPoP proof (RFC 9449) made by hand, for one request; with an access token, its `ath`. */
export function dpopProof(key: DpopKey, method: string, url: string, options: { accessToken?: string; nonce?: string } = {}): Promise<string> {
  return new SignJWT({
    htm: method,
    htu: url,
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    ...(options.accessToken && { ath: createHash('sha256').update(options.accessToken).digest('base64url') }),
    ...(options.nonce && { nonce: options.nonce }),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .sign(key.privateKey);
}

/** Form-encoded POST, answer as JSON (or text) with status and headers. */
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, json, text };
}
