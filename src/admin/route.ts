// What one admin endpoint is: method, path, who may call it, zod schemas for its input and output, and
// its handler. The admin API (src/admin/api.ts) routes and checks by these declarations, the OpenAPI
// document (src/admin/openapi.ts) is written from them, and the console calls them.
import type Koa from 'koa';
import type { z } from 'zod';
import type { HttpMethod as RouterMethod } from '../web/router.ts';
import type { AdminRole, AdminScope } from './auth-roles.ts';

export type HttpMethod = Exclude<RouterMethod, 'HEAD' | 'PATCH'>;

/**
 * Who may call an endpoint: administrators holding one of `roles` (signed in through the provider),
 * and service clients whose client_credentials token carries `scope` and that are approved for it.
 * Without `scope`, automation may not call it at all (four-eyes decisions, role changes).
 */
export interface Access {
  readonly roles: readonly AdminRole[];
  readonly scope?: AdminScope;
}

/** Who is calling: an administrator signed in at level 2, or a service client with an admin-scoped token. */
export type AdminPrincipal =
  | {
      readonly kind: 'administrator';
      /** The administrator's account (internal UUID; never the ID number in the trail). */
      readonly accountId: string;
      readonly roles: ReadonlySet<AdminRole>;
      /** How the audit trail names them: `account:<uuid>`. */
      readonly actor: string;
    }
  | {
      readonly kind: 'service';
      readonly clientId: string;
      /** Admin scopes both in the token and approved for the client. */
      readonly scopes: ReadonlySet<AdminScope>;
      /** `client:<client_id>`. */
      readonly actor: string;
    };

export interface AdminRequest<Body, Query> {
  readonly principal: AdminPrincipal;
  /** Path parameters, from `{name}` in the route's path. */
  readonly params: Readonly<Record<string, string>>;
  readonly body: Body;
  readonly query: Query;
  readonly ctx: Koa.Context;
}

export interface AdminResponse {
  readonly status: number;
  readonly body?: unknown;
}

export interface AdminRoute<Body = unknown, Query = unknown> {
  readonly method: HttpMethod;
  /** OpenAPI style: `/api/clients/{clientId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** Markdown, shown in the document. */
  readonly description?: string;
  readonly tag: string;
  readonly access: Access;
  readonly body?: z.ZodType<Body>;
  readonly query?: z.ZodType<Query>;
  /** Success responses by status; errors (400, 401, 403, 404, 409) are documented for every route. */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType }>>;
  handle(request: AdminRequest<Body, Query>): Promise<AdminResponse>;
}
