// Reading a posted HTML form where it enters: url-encoded only, at most 64 kB (a larger body is
// refused before it is read to the end).
import type { ParameterizedContext } from 'koa';

export const MAX_FORM_BYTES = 64 * 1024;

/** The body is larger than any of our forms can be: answer 413. */
export class FormTooLarge extends Error {
  override readonly name = 'FormTooLarge';
}

/** The form's fields; an empty set for any other content type (every field is then missing). */
export async function readForm(ctx: ParameterizedContext): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
  if (Number(ctx.get('content-length') || 0) > MAX_FORM_BYTES) throw new FormTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new FormTooLarge();
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
