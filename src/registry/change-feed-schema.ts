// The registry change feed's event format (docs/registry.md "Registry change feed"), validated where it enters:
// one JSON object per line, each with an id, a type, the person's ID number and the date it happened.
import { z } from 'zod';
import { RELATIONS_TO_HEAD, type Address } from './registry.ts';
import { isNationalIdShape, nationalIdFormatProblem, nationalIdProblem } from './national-id.ts';
import { todayInVietnam } from './record-schema.ts';

/** A calendar date as YYYY-MM-DD that exists (no 2026-02-30). */
export const isoDate = z.string().refine(
  (value) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
  },
  { message: 'expected a date as YYYY-MM-DD' },
);

const text = (max: number) =>
  z
    .string()
    .transform((value) => value.normalize('NFC').replace(/\s+/g, ' ').trim())
    .pipe(z.string().min(1, 'expected a non-empty text').max(max, `expected at most ${max} characters`));

/** An address as the registry writes it: street, commune or ward, province. Always in Việt Nam. */
export const registryAddress = z
  .object({
    street_address: text(300),
    locality: text(200),
    region: text(200),
  })
  .strict()
  .transform((value): Address => ({ streetAddress: value.street_address, locality: value.locality, region: value.region, country: 'VN' }));

/** A full name in registry order (family, middle, given): at least two words. */
export const fullName = text(200).refine((value) => value.split(/\s+/).length >= 2, {
  message: 'expected a family name and a given name at least',
});

const nationalId = z.string().refine(isNationalIdShape, { message: 'expected 12 digits' });

/** A father's, mother's or guardian's number: 12 digits with a known prefix and century/gender digit. */
const relationNumber = z.string().superRefine((value, ctx) => {
  const problem = nationalIdFormatProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `expected an ID number: ${problem.message}` });
});

const RELATION_KEYS = ['father_national_id', 'mother_national_id', 'guardian_national_id'] as const;

/** No one is their own parent or guardian, and no one both father and mother. */
function checkRelations(event: { national_id: string } & Partial<Record<(typeof RELATION_KEYS)[number], string | null>>, ctx: z.RefinementCtx): void {
  for (const key of RELATION_KEYS) {
    if (event[key] === event.national_id) ctx.addIssue({ code: 'custom', path: [key], message: "expected another person's number than the person's own" });
  }
  if (typeof event.father_national_id === 'string' && event.father_national_id === event.mother_national_id) {
    ctx.addIssue({ code: 'custom', path: ['mother_national_id'], message: 'expected another number than father_national_id' });
  }
}

const common = {
  /** The registry's id of the event: unique, and the same every time the event is sent. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'expected 1 to 128 letters, digits, dots, dashes, colons or underscores'),
  national_id: nationalId,
  /** The day the fact happened: birth, death, going missing, move, change of name, the card's issue. */
  occurred_on: isoDate,
};

const born = z
  .object({
    ...common,
    type: z.literal('born'),
    full_name: fullName,
    gender: z.enum(['male', 'female'], { error: 'expected male or female' }),
    place_of_origin: text(200),
    ethnicity: text(100),
    nationality: z.string().regex(/^[A-Z]{2}$/, 'expected a two-letter country code').default('VN'),
    permanent_address: registryAddress,
    household_id: text(64).optional(),
    relation_to_head: z.enum(RELATIONS_TO_HEAD, { error: `expected one of ${RELATIONS_TO_HEAD.join(', ')}` }).optional(),
    // The parents and guardian the birth registration names, where known.
    father_national_id: relationNumber.optional(),
    mother_national_id: relationNumber.optional(),
    guardian_national_id: relationNumber.optional(),
  })
  .strict()
  .superRefine((event, ctx) => {
    checkRelations(event, ctx);
    if (event.relation_to_head !== undefined && event.household_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['relation_to_head'], message: 'expected only together with household_id' });
    }
    const problem = nationalIdProblem(event.national_id, event.occurred_on, event.gender);
    if (problem) ctx.addIssue({ code: 'custom', path: ['national_id'], message: `expected a number that fits the birth: ${problem}` });
  });

const died = z.object({ ...common, type: z.literal('died') }).strict();
const wentMissing = z.object({ ...common, type: z.literal('went_missing') }).strict();
const moved = z.object({ ...common, type: z.literal('moved'), permanent_address: registryAddress }).strict();
const renamed = z.object({ ...common, type: z.literal('renamed'), full_name: fullName }).strict();
const cardReissued = z.object({ ...common, type: z.literal('card_reissued') }).strict();
/**
 * The registry names another father, mother or guardian, or none (null): a guardianship decided or
 * ended, a paternity established or annulled. A key left out keeps what the record has; at least one
 * is given. `occurred_on` is the day the change took effect.
 */
const relationsChanged = z
  .object({
    ...common,
    type: z.literal('relations_changed'),
    father_national_id: relationNumber.nullable().optional(),
    mother_national_id: relationNumber.nullable().optional(),
    guardian_national_id: relationNumber.nullable().optional(),
  })
  .strict()
  .superRefine((event, ctx) => {
    if (RELATION_KEYS.every((key) => event[key] === undefined)) {
      ctx.addIssue({ code: 'custom', message: `expected at least one of ${RELATION_KEYS.join(', ')} (null to clear it)` });
    }
    checkRelations(event, ctx);
  });

export const CHANGE_TYPES = ['born', 'died', 'went_missing', 'moved', 'renamed', 'card_reissued', 'relations_changed'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

const changeEvent = z.discriminatedUnion('type', [born, died, wentMissing, moved, renamed, cardReissued, relationsChanged], {
  error: (issue) =>
    issue.code === 'invalid_union' ? `expected one of ${CHANGE_TYPES.join(', ')}` : undefined,
});

export type RegistryChangeEvent = z.output<typeof changeEvent>;
/** The events that end a person's eID: their account is locked and all its access ended. */
export const LOCKING_CHANGES: ReadonlySet<ChangeType> = new Set(['died', 'went_missing']);

export type ParsedLine = { readonly event: RegistryChangeEvent } | { readonly problem: string };

/** Longest line read; a registry event is a few hundred bytes. */
export const MAX_LINE_LENGTH = 16 * 1024;

/** Parses one line of the feed into an event, or says in one line what is wrong with it. */
export function parseChangeLine(line: string, today: string = todayInVietnam()): ParsedLine {
  if (line.length > MAX_LINE_LENGTH) return { problem: `longer than ${MAX_LINE_LENGTH} characters` };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { problem: 'expected a JSON object' };
  const parsed = changeEvent.safeParse(json, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'missing' : undefined),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    const message = issue.code === 'unrecognized_keys' ? `unexpected field ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}` : issue.message;
    return { problem: `${where}${message}` };
  }
  if (parsed.data.occurred_on > today) return { problem: `occurred_on: expected a date not after today (${today})` };
  return { event: parsed.data };
}
