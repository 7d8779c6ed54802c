// What the admin side refuses, and how the refusal reads: a status, a stable code and a message the
// caller may see, answered as RFC 9457 problem details by the API and as a page by the console.
import { z } from 'zod';

export class AdminProblem extends Error {
  override readonly name = 'AdminProblem';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new AdminProblem(404, 'not_found', `${what} not found`);

/** The body of every error answer (RFC 9457 problem details, with our stable `code`). */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('stable: invalid_request, invalid_registration, unauthenticated, forbidden, not_found, conflict…'),
    detail: z.string(),
    issues: z
      .array(
        z.object({
          path: z.string(),
          message: z.string(),
          code: z.string().optional().describe("Why, stable: zod's issue code (too_small, invalid_format…), or the registration check's (https_required, unknown_scope, required…)"),
        }),
      )
      .optional(),
  });

/** An error answer's body: problem details with our `code`, and the input's issues when there are any. */
export function problemBody(status: number, code: string, detail: string, issues?: unknown): z.infer<typeof problemSchema> {
  return {
    type: 'about:blank',
    title: code.replaceAll('_', ' '),
    status,
    code,
    detail,
    ...(Array.isArray(issues) && { issues: issues as { path: string; message: string; code?: string }[] }),
  };
}
