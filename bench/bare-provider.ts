// The library's own ceiling for bench/protocol.ts: a bare oidc-provider with its in-memory adapter
// (over a store large enough to keep every token of the run), configured like the project where the
// benchmark goes (client credentials, introspection, PKCE required, ES256 signing, refresh tokens
// rotated on every use, the same scopes, clients and token lifetimes), and the smallest sign-in that
// still checks a password: one argon2id verify with the project's parameters and concurrency bound,
// then login and consent in one step.
//
//   node bench/bare-provider.ts --port 4100
//
// Listens on 127.0.0.1 only and prints `ready <issuer>` on stdout when it serves.
import { createServer, type IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider, { type Adapter, type Configuration } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { PasswordHasher } from '../src/accounts/passwords.ts';
import { loadConfig } from '../src/config/config.ts';
import { SCOPE_CLAIMS } from '../src/oidc/consent/claims.ts';
import { PASSWORD, REDIRECT } from './support.ts';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '4100' } } });
const issuer = `http://127.0.0.1:${args.port}`;
const config = loadConfig({ NODE_ENV: 'development' });

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'bare-es256', alg: 'ES256', use: 'sig' };
const hasher = new PasswordHasher(config.argon2, { concurrent: config.argon2.concurrent, queued: config.argon2.queued });
const passwordHash = await hasher.hash(PASSWORD);

// The library's own in-memory adapter, over a larger store: its default holds 1,000 entries (an LRU),
// so under load it would evict the very tokens the benchmark keeps using (refresh, introspection).
// Deep imports: the package has no exports map; both modules are plain ES modules of oidc-provider 9.
const MEMORY_ADAPTER: string = 'oidc-provider/lib/adapters/memory_adapter.js';
const LRU_STORE: string = 'oidc-provider/lib/helpers/lru.js';
const { default: MemoryAdapter } = (await import(MEMORY_ADAPTER)) as { default: new (model: string, store: unknown) => Adapter };
const { default: LRU } = (await import(LRU_STORE)) as { default: new (options: { maxSize: number }) => unknown };
const store = new LRU({ maxSize: 5_000_000 });

const configuration: Configuration = {
  adapter: (model: string) => new MemoryAdapter(model, store),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  clients: [
    {
      client_id: 'demo-portal',
      client_secret: 'demo-portal-secret',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT],
    },
    {
      client_id: 'demo-service',
      client_secret: 'demo-service-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, name: 'Nguyễn Văn Bench', family_name: 'Nguyễn', middle_name: 'Văn', given_name: 'Bench', birthdate: '1995-01-01', gender: 'male' }),
  }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  },
  pkce: { required: () => true },
  responseTypes: ['code'],
  scopes: Object.keys(SCOPE_CLAIMS).concat('offline_access'),
  claims: { ...SCOPE_CLAIMS, openid: [...SCOPE_CLAIMS.openid, 'acr', 'amr', 'auth_time'] },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: config.ttl.accessToken,
    AuthorizationCode: config.ttl.authorizationCode,
    ClientCredentials: config.ttl.clientCredentials,
    IdToken: config.ttl.idToken,
    Interaction: config.ttl.interaction,
    Session: 3600,
    Grant: config.ttl.grant,
    RefreshToken: config.ttl.refreshToken,
  },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

const server = createServer((request, response) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(request.url ?? '');
  if (!match) {
    void callback(request, response);
    return;
  }
  void (async () => {
    try {
      const details = await provider.interactionDetails(request, response);
      if (!match[2]) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<form method="post" action="/interaction/${details.uid}/login"><input name="username"><input name="password" type="password"></form>`);
        return;
      }
      const form = await formOf(request);
      const accountId = form.get('username') ?? '';
      if (!accountId || !(await hasher.verify(passwordHash, form.get('password') ?? ''))) {
        response.writeHead(400).end('wrong password');
        return;
      }
      const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      const redirectTo = await provider.interactionResult(request, response, { login: { accountId }, consent: { grantId } });
      response.writeHead(303, { location: redirectTo }).end();
    } catch (error) {
      response.writeHead(500).end(error instanceof Error ? error.message : 'error');
    }
  })();
});
server.listen(Number(args.port), '127.0.0.1', () => console.log(`ready ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
