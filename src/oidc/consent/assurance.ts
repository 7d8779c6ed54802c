// Assurance levels (docs/design.md "Assurance"): urn:vn:eid:loa:1 is one factor on a level-1 or level-2
// account; urn:vn:eid:loa:2 is two factors on a level-2 account. A request lists acceptable levels;
// the lowest listed is what it needs, a higher session satisfies it, unknown values are ignored.
export const LOA_1 = 'urn:vn:eid:loa:1';
export const LOA_2 = 'urn:vn:eid:loa:2';
export const ACR_VALUES = [LOA_1, LOA_2] as const;

export type AssuranceLevel = 1 | 2;

export function levelOf(acr: unknown): AssuranceLevel | undefined {
  return acr === LOA_1 ? 1 : acr === LOA_2 ? 2 : undefined;
}

export function acrOf(level: AssuranceLevel): string {
  return level === 2 ? LOA_2 : LOA_1;
}

/** What an `acr` request (from acr_values, the claims parameter or a client default) needs. */
export function requiredLevel(request: { value?: unknown; values?: unknown } | undefined): AssuranceLevel | undefined {
  if (!request) return undefined;
  const listed = Array.isArray(request.values) ? request.values : request.value !== undefined ? [request.value] : [];
  const known = listed.map(levelOf).filter((level): level is AssuranceLevel => level !== undefined);
  return known.length === 0 ? undefined : (Math.min(...known) as AssuranceLevel);
}
