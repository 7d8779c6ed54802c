// The admin API's OpenAPI 3.1 document, built from the routes themselves (their zod schemas become
// JSON Schema 2020-12), with the table of rules per client profile written out from PROFILE_RULES.
import { z } from 'zod';
import { CLIENT_PROFILES, PROFILE_RULES } from '../oidc/clients/client-profiles.ts';
import { problemSchema } from './problem.ts';
import type { AdminRoute } from './route.ts';
import { ADMIN_ROLES, ADMIN_SCOPES } from './auth-roles.ts';
import { SENSITIVE_SCOPES } from './api-clients.ts';

const PROFILE_NOTES: Record<(typeof CLIENT_PROFILES)[number], string> = {
  portal: 'A server-side web application. Redirect URIs https (http only on loopback outside production).',
  spa: 'A browser application: public client, never a secret; PKCE (S256) on every request.',
  native: 'A mobile or desktop app (RFC 8252): redirect URIs http on loopback, claimed https, or a reverse-domain scheme (vn.gov.app:/callback); never a secret.',
  service: 'Machine to machine (client_credentials): no redirect URIs, no ID tokens, public subject; may be a resource server; the only profile that may hold admin scopes or resource-server scopes.',
  bank: 'FAPI 2.0 Security Profile: PAR, PKCE, private_key_jwt or mutual TLS, sender-constrained tokens (DPoP or mTLS), needs jwks, jwks_uri or a TLS certificate subject; FAPI algorithms PS256, ES256, EdDSA only; CIBA (poll by default) when it can have it. Never client_secret_basic.',
};

/** The rules per profile, as Markdown: what each may register. */
export function profileRulesTable(): string {
  const rows = CLIENT_PROFILES.map((profile) => {
    const rules = PROFILE_RULES[profile];
    return `| \`${profile}\` | ${rules.authMethods.map((method) => `\`${method}\``).join(', ')} | ${
      rules.authMethods.includes('client_secret_basic') ? 'generated with client_secret_basic, shown once' : 'never'
    } | ${rules.needsRedirectUris ? 'at least one' : 'none allowed'} | ${rules.grantTypes.map((grant) => `\`${grant}\``).join(', ')} | ${
      rules.rotateRefreshTokens ? 'rotated' : 'not rotated'
    } | ${PROFILE_NOTES[profile]} |`;
  });
  return [
    '| Profile | Token endpoint auth methods (first = default) | Secret | Redirect URIs | Grant types | Refresh tokens | Rules |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const DESCRIPTION = `The citizen-idp admin API: relying parties, who administers, and the four-eyes queue. It listens on
ADMIN_PORT only (firewall it from the internet).

## Authentication

* **Administrators** sign in through this provider itself at level 2 (\`GET /auth/sign-in\`); the
  \`admin_session\` cookie then authorizes calls, and every call that is not a GET carries the session's
  CSRF token (\`GET /auth/session\`) in \`X-CSRF-Token\`.
* **Automation**: a service client approved for an admin scope (${ADMIN_SCOPES.map((scope) => `\`${scope}\``).join(', ')})
  gets a client_credentials token at the token endpoint and sends it as \`Authorization: Bearer …\`.
  The token counts only for the admin scopes the client is approved for at the moment of the call.

## Roles

| Role | May |
|---|---|
| \`client_admin\` | everything on relying parties; approve or reject another administrator's request; grant and revoke roles (not their own) |
| \`support_officer\` | read relying parties (and, later, act on accounts) |
| \`auditor\` | read relying parties, administrators and pending requests (and, later, the audit trail) |

Each endpoint below says which roles (and which scope, for automation) it needs. A refusal (401,
403) is itself recorded in the audit trail as \`admin.denied\`; every change as \`admin.action\` with
the acting administrator (\`account:<uuid>\`) or client (\`client:<id>\`).

## Rules per client profile

${profileRulesTable()}

Every profile besides: client ids are 3 to 64 characters of a-z, 0-9, \`.\`, \`_\`, \`-\`; redirect URIs have no
fragment; a pairwise client's redirect URIs share one host unless it has a \`sectorIdentifierUri\`
(fetched at registration; it must list every redirect URI); back-channel logout URIs are https
(http on loopback outside production) and not for service clients; lifetimes may only be shorter
than the provider's; at least one contact and an agreement reference are required.

## Sensitive scopes (four eyes)

${SENSITIVE_SCOPES.map((scope) => `\`${scope}\``).join(', ')}: newly approving one for a client does not take effect at once. The
change waits in \`GET /api/approvals\` until a second client administrator — never the one who
asked — approves it (\`POST /api/approvals/{id}/approve\`). Removing a scope takes effect at once.

Errors are \`application/problem+json\` with a stable \`code\`.`;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const converted = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  // The document's dialect is OpenAPI 3.1's own (JSON Schema 2020-12): no per-schema $schema.
  delete converted.$schema;
  return converted;
}

const ERRORS: Record<number, string> = {
  400: 'Invalid input (the message names the field and the rule)',
  401: 'No credentials, or a bad, expired or unsuitable token',
  403: 'The caller lacks the role or scope (or the CSRF token, or four eyes forbid it)',
  404: 'No such thing',
  409: 'Conflict with the current state',
};

export function openApiDocument(routes: readonly AdminRoute<unknown, unknown>[], serverUrl: string | undefined): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters: unknown[] = [...route.path.matchAll(/\{([a-zA-Z]+)\}/g)].map((match) => ({
      name: match[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (route.query) {
      const query = jsonSchema(route.query, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema, ...(typeof schema.description === 'string' && { description: schema.description }) });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = { description: response.description, ...(response.schema && { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } }) };
    }
    for (const [status, description] of Object.entries(ERRORS)) {
      responses[status] ??= { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    }
    const who = `Roles: ${route.access.roles.map((role) => `\`${role}\``).join(', ')}. Automation: ${route.access.scope ? `\`${route.access.scope}\`` : 'not allowed'}.`;
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      description: [route.description, who].filter(Boolean).join('\n\n'),
      tags: [route.tag],
      'x-roles': route.access.roles,
      ...(route.access.scope && { 'x-scope': route.access.scope }),
      security: [{ adminSession: [] }, ...(route.access.scope ? [{ serviceToken: [route.access.scope] }] : [])],
      ...(parameters.length > 0 && { parameters }),
      ...(route.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'citizen-idp admin API', version: '1', description: DESCRIPTION },
    ...(serverUrl && { servers: [{ url: serverUrl }] }),
    // Every route's tag, in the order the groups were added (src/admin/api-app.ts).
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
      securitySchemes: {
        adminSession: { type: 'apiKey', in: 'cookie', name: 'admin_session', description: `An administrator signed in at level 2 (GET /auth/sign-in); roles: ${ADMIN_ROLES.join(', ')}.` },
        serviceToken: { type: 'http', scheme: 'bearer', description: 'A client_credentials access token of a service client approved for an admin scope.' },
      },
    },
  };
}
