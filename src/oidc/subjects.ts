// What a client is told a citizen is called: `sub` per subject type (docs/design.md "Subjects").
// oidc-provider keeps the account's internal id everywhere and turns it into a pairwise `sub` itself;
// a public `sub` it would give out as the internal id, so installPublicSubjects rewrites it where it leaves.
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { FindAccount, KoaContextWithOIDC } from 'oidc-provider';

/** `sub` for a pairwise client: HMAC-SHA256 over the sector and the account's internal id. */
export function pairwiseSubject(pairwiseKey: Buffer, sector: string, accountId: string): string {
  return createHmac('sha256', pairwiseKey).update(`${sector}\n${accountId}`).digest('base64url');
}

/** Pairwise: a `sub` for this client's sector only; public: one `sub` shared by every public client. */
export type SubjectType = 'pairwise' | 'public';

/** The client properties a subject depends on. */
export interface SubjectClient {
  readonly clientId: string;
  readonly subjectType?: string | undefined;
  readonly sectorIdentifier?: string | undefined;
}

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;
const PUBLIC_SUBJECT = /^[A-Za-z0-9_-]{22}$/;

export class Subjects {
  readonly #pairwiseKey: Buffer;
  /** AES-256 key of public subjects, derived from PAIRWISE_KEY so that no secret is added. */
  readonly #publicKey: Buffer;
  readonly #firstParty: ReadonlySet<string>;

  /** `firstPartyClients` (the account page, the admin console) get the internal id: they are the provider. */
  constructor(pairwiseKey: Buffer, firstPartyClients: readonly string[]) {
    this.#pairwiseKey = pairwiseKey;
    this.#publicKey = createHmac('sha256', pairwiseKey).update('public subjects').digest();
    this.#firstParty = new Set(firstPartyClients);
  }

  /** The `sub` this client knows the account by. */
  of(client: SubjectClient, accountId: string): string {
    if (client.subjectType === 'pairwise') return pairwiseSubject(this.#pairwiseKey, String(client.sectorIdentifier), accountId);
    return this.#firstParty.has(client.clientId) ? accountId : this.publicSubject(accountId);
  }

  /**
   * The `sub` of a child a citizen acts for (src/oidc/consent/representation.ts): a child under 14 has no
   * account, so HMAC-SHA256 over the client's sector (`public` for a public client) and `child:` + the
   * ID number — stable at a sector, unlinkable across sectors, never the ID number itself.
   */
  childSubject(client: SubjectClient, nationalId: string): string {
    const sector = client.subjectType === 'pairwise' ? String(client.sectorIdentifier) : 'public';
    return pairwiseSubject(this.#pairwiseKey, sector, `child:${nationalId}`);
  }

  /**
   * The same for every public client: the account's 16-byte UUID as one AES-256 block, in base64url
   * (22 characters). Only the provider, with the key, can turn it back into the internal id.
   */
  publicSubject(accountId: string): string {
    const parts = UUID.exec(accountId);
    if (!parts) throw new TypeError('an account id is a UUID');
    const cipher = createCipheriv('aes-256-ecb', this.#publicKey, null).setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.from(parts.slice(1).join(''), 'hex')), cipher.final()]).toString('base64url');
  }

  /** The internal id behind a public subject; undefined for anything not shaped like one. */
  accountIdOf(publicSubject: string): string | undefined {
    if (!PUBLIC_SUBJECT.test(publicSubject)) return undefined;
    const block = Buffer.from(publicSubject, 'base64url');
    if (block.length !== 16 || block.toString('base64url') !== publicSubject) return undefined;
    const decipher = createDecipheriv('aes-256-ecb', this.#publicKey, null).setAutoPadding(false);
    const hex = Buffer.concat([decipher.update(block), decipher.final()]).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /**
   * findAccount that also takes a public subject, as a public bank's CIBA id_token_hint carries; the
   * account it returns keeps the internal id, which is what tokens and grants are stored under.
   */
  wrapFindAccount(findAccount: FindAccount): FindAccount {
    return (ctx, id, token) => findAccount(ctx, this.accountIdOf(id) ?? id, token);
  }
}

type ClaimsResult = (this: { client: SubjectClient }) => Promise<Record<string, unknown>>;
type JwtCustomizer = (ctx: KoaContextWithOIDC | undefined, token: { accountId?: string; client?: SubjectClient }, jwt: { payload: Record<string, unknown> }) => Promise<void>;

/** Access tokens in JWT format (RFC 9068): oidc-provider's `formats.customizers.jwt`. */
export function publicSubjectInJwt(subjects: Subjects): JwtCustomizer {
  return (_ctx, token, jwt) => {
    if (token.accountId && token.client && token.client.subjectType !== 'pairwise') jwt.payload.sub = subjects.of(token.client, token.accountId);
    return Promise.resolve();
  };
}

/**
 * Every other place a public `sub` leaves the provider: ID tokens, userinfo and logout tokens all pass
 * through provider.Claims (which makes pairwise subjects itself); introspection sets `sub` on its own.
 */
export function installPublicSubjects(provider: Provider, subjects: Subjects): void {
  const claims = provider.Claims.prototype as unknown as { result: ClaimsResult };
  const result = claims.result;
  claims.result = async function (this: { client: SubjectClient }) {
    const released = await result.call(this);
    if (typeof released.sub === 'string' && this.client.subjectType !== 'pairwise') released.sub = subjects.of(this.client, released.sub);
    return released;
  };
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    const body = ctx.body as { active?: unknown; sub?: unknown; client_id?: unknown } | undefined;
    if (oidc?.route !== 'introspection' || body?.active !== true || typeof body.sub !== 'string' || typeof body.client_id !== 'string') return;
    // The token's client, which may not be the one asking (a resource server).
    const client = await provider.Client.find(body.client_id);
    if (client && client.subjectType !== 'pairwise') body.sub = subjects.of(client, body.sub);
  });
}
