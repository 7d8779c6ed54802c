// Masks what must never reach a log line: passwords, secrets, tokens, codes, full ID numbers.
// Used by the logger for every record, and by anything that formats user input for a log.

// `key` covers keyEncryptionKey, pairwiseKey, api keys; d, p, q, dp, dq, qi are a JWK's private
// members (an RSA key can be rebuilt from p and q alone); `request` is a request object, which may
// carry a login_hint.
const SECRET_NAME =
  /pass(word|phrase)?|secret|token|assertion|verifier|authorization|cookie|hint|private|key|^(code|otp|d|p|q|dp|dq|qi|request|\w+_code)$/i;
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
  // An ID number without leading zeros, held as a number.
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1e11 && value < 1e12) return maskIdNumbers(String(value));
  if (value === null || typeof value !== 'object') return value;
  // Raw bytes are keys or ciphertext far more often than anything a reader needs.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) {
    return {
      // Enumerable extras (a pg error's code and detail, an OAuth error's description), redacted too.
      ...(redact({ ...value }, depth + 1) as Record<string, unknown>),
      type: value.name,
      message: maskIdNumbers(value.message),
      ...(value.stack !== undefined && { stack: maskIdNumbers(value.stack) }),
      ...(value.cause !== undefined && { cause: redact(value.cause, depth + 1) }),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSecretName(key) && inner !== undefined && inner !== null && typeof inner !== 'boolean' ? MASK : redact(inner, depth + 1);
  }
  return out;
}
