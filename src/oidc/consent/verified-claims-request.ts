// The `verified_claims` member of a `claims` request parameter (OpenID Connect for Identity Assurance
// 1.0, "Requesting verified claims"), checked where it enters: a malformed one is the client's error
// (400 invalid_request), never a silent guess. What is checked is the request's shape; what the
// citizen's data can satisfy is decided at release (src/oidc/consent/verified-claims.ts).

/** A request member that is not what the specification allows; its message says where and why. */
export class MalformedVerifiedClaimsRequest extends Error {
  override readonly name = 'MalformedVerifiedClaimsRequest';
}

/** The keys a request object may carry about the element it names (OpenID Connect Core 5.5.1, IDA `max_age`). */
export const CONSTRAINT_KEYS: ReadonlySet<string> = new Set(['value', 'values', 'max_age', 'essential', 'purpose']);

/** One `verified_claims` request object: the verification element asked for and the claims. */
export interface VerifiedClaimsRequestEntry {
  readonly verification: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
}

/** The request as the client sent it (one object or an array), its entries checked. */
export interface VerifiedClaimsRequest {
  readonly asArray: boolean;
  readonly entries: readonly VerifiedClaimsRequestEntry[];
}

const MAX_ENTRIES = 10;
const MAX_DEPTH = 6;

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isScalar = (value: unknown): boolean => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** True when every key of a request object is a constraint key (value, values, max_age, essential, purpose). */
export function isConstraint(request: Record<string, unknown>): boolean {
  return Object.keys(request).every((key) => CONSTRAINT_KEYS.has(key));
}

/** Checks the constraint keys a request object carries (other keys are nested requests, checked apart). */
function checkConstraintKeys(request: Record<string, unknown>, at: string): void {
  if ('value' in request && !isScalar(request.value)) throw new MalformedVerifiedClaimsRequest(`${at}.value must be a string, number or boolean`);
  if ('values' in request) {
    const { values } = request;
    if (!Array.isArray(values) || values.length === 0 || !values.every(isScalar)) {
      throw new MalformedVerifiedClaimsRequest(`${at}.values must be a non-empty array of strings, numbers or booleans`);
    }
    if ('value' in request) throw new MalformedVerifiedClaimsRequest(`${at} must not carry both value and values`);
  }
  if ('max_age' in request) {
    const maxAge = request.max_age;
    if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0) throw new MalformedVerifiedClaimsRequest(`${at}.max_age must be a non-negative number of seconds`);
  }
  if ('essential' in request && typeof request.essential !== 'boolean') throw new MalformedVerifiedClaimsRequest(`${at}.essential must be true or false`);
  if ('purpose' in request) {
    const { purpose } = request;
    if (typeof purpose !== 'string' || purpose.length < 3 || purpose.length > 300) throw new MalformedVerifiedClaimsRequest(`${at}.purpose must be a string of 3 to 300 characters`);
  }
}

/**
 * An element of the verification request: null, a constraint object, an object naming deeper
 * elements, or (for `evidence` and `check_details`) an array of such objects, each a filter.
 */
function checkElement(request: unknown, at: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new MalformedVerifiedClaimsRequest(`${at} is nested too deeply`);
  if (request === null) return;
  if (Array.isArray(request)) {
    if (request.length === 0 || request.length > MAX_ENTRIES) throw new MalformedVerifiedClaimsRequest(`${at} must be an array of 1 to ${MAX_ENTRIES} objects`);
    request.forEach((entry, index) => {
      if (!isPlainObject(entry)) throw new MalformedVerifiedClaimsRequest(`${at}[${index}] must be an object`);
      checkElement(entry, `${at}[${index}]`, depth + 1);
    });
    return;
  }
  if (!isPlainObject(request)) throw new MalformedVerifiedClaimsRequest(`${at} must be null or an object`);
  checkConstraintKeys(request, at);
  for (const [key, value] of Object.entries(request)) {
    if (CONSTRAINT_KEYS.has(key)) continue;
    checkElement(value, `${at}.${key}`, depth + 1);
  }
}

/** Each `evidence` entry filters on its type, with `value` only ("Requesting verification data"). */
function checkEvidence(evidence: unknown, at: string): void {
  if (evidence === null) return;
  if (!Array.isArray(evidence)) throw new MalformedVerifiedClaimsRequest(`${at} must be an array of evidence requests`);
  checkElement(evidence, at, 2);
  evidence.forEach((entry: Record<string, unknown>, index) => {
    const type = entry.type;
    if (!isPlainObject(type) || typeof type.value !== 'string' || 'values' in type) {
      throw new MalformedVerifiedClaimsRequest(`${at}[${index}].type must be an object with a "value" (the evidence type; "values" is not allowed)`);
    }
    for (const list of ['check_details']) {
      if (list in entry && entry[list] !== null && !Array.isArray(entry[list])) throw new MalformedVerifiedClaimsRequest(`${at}[${index}].${list} must be an array`);
    }
  });
}

function checkEntry(entry: unknown, at: string): VerifiedClaimsRequestEntry {
  if (!isPlainObject(entry)) throw new MalformedVerifiedClaimsRequest(`${at} must be an object`);
  const { verification, claims } = entry;
  if (!isPlainObject(verification)) throw new MalformedVerifiedClaimsRequest(`${at}.verification must be an object`);
  if (!isPlainObject(claims) || Object.keys(claims).length === 0) throw new MalformedVerifiedClaimsRequest(`${at}.claims must be an object naming at least one claim`);
  for (const [name, request] of Object.entries(claims)) {
    if (request === null) continue;
    if (!isPlainObject(request)) throw new MalformedVerifiedClaimsRequest(`${at}.claims.${name} must be null or an object`);
    checkConstraintKeys(request, `${at}.claims.${name}`);
  }
  for (const [key, value] of Object.entries(verification)) {
    if (key === 'evidence') checkEvidence(value, `${at}.verification.evidence`);
    else checkElement(value, `${at}.verification.${key}`, 2);
  }
  const trustFramework = verification.trust_framework;
  if (isPlainObject(trustFramework) && 'max_age' in trustFramework) throw new MalformedVerifiedClaimsRequest(`${at}.verification.trust_framework takes value or values, not max_age`);
  return { verification, claims };
}

/** Checks a `verified_claims` request member; throws MalformedVerifiedClaimsRequest with where and why. */
export function parseVerifiedClaimsRequest(request: unknown, at = 'verified_claims'): VerifiedClaimsRequest {
  if (Array.isArray(request)) {
    if (request.length === 0 || request.length > MAX_ENTRIES) throw new MalformedVerifiedClaimsRequest(`${at} must be an object or an array of 1 to ${MAX_ENTRIES} objects`);
    return { asArray: true, entries: request.map((entry, index) => checkEntry(entry, `${at}[${index}]`)) };
  }
  return { asArray: false, entries: [checkEntry(request, at)] };
}

/** The `verified_claims` members of a parsed `claims` parameter, by where they were asked for. */
export function verifiedClaimsRequestsOf(claims: unknown): { userinfo?: unknown; id_token?: unknown } {
  if (!isPlainObject(claims)) return {};
  const of = (member: unknown) => (isPlainObject(member) && 'verified_claims' in member ? member.verified_claims : undefined);
  const userinfo = of(claims.userinfo);
  const idToken = of(claims.id_token);
  return { ...(userinfo !== undefined && { userinfo }), ...(idToken !== undefined && { id_token: idToken }) };
}

/** The claim names asked for inside verified_claims, in any of its entries. */
export function claimNamesRequested(request: VerifiedClaimsRequest): string[] {
  return [...new Set(request.entries.flatMap((entry) => Object.keys(entry.claims)))];
}
