// Masks what must never reach a log line: passwords, secrets, tokens, codes, full ID numbers.
// Used by the logger for every record, and by anything that formats user input for a log.

const SECRET_NAME = /pass(word|phrase)?|secret|token|assertion|verifier|authorization|cookie|hint|private|^(code|otp|d|\w+_code)$/i;
const ID_NUMBER = /(?<!\d)(\d{3})\d{7}(\d{2})(?!\d)/g;
const MASK = '[redacted]';

/** True for a field or parameter name whose value is a credential. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Keeps the province prefix and last two digits of any 12-digit number: 001*******45. */
export function maskIdNumbers(text: string): string {
  return text.replace(ID_NUMBER, (_match, head: string, tail: string) => `${head}*******${tail}`);
}

/** A URL path with query parameters whose names are secret replaced, and ID numbers masked. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return maskIdNumbers(url);
  const params = new URLSearchParams(url.slice(queryAt + 1));
  for (const name of [...new Set(params.keys())]) {
    if (isSecretName(name)) params.set(name, MASK);
  }
  return maskIdNumbers(`${url.slice(0, queryAt)}?${params.toString().replaceAll('%5Bredacted%5D', MASK)}`);
}

/** A deep copy of a log value with secret-named fields replaced and ID numbers masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[too deep]';
  if (typeof value === 'string') return maskIdNumbers(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskIdNumbers(value.message), stack: value.stack && maskIdNumbers(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSecretName(key) && inner !== undefined && inner !== null && typeof inner !== 'boolean' ? MASK : redact(inner, depth + 1);
  }
  return out;
}
