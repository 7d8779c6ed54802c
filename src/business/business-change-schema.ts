// The business register's change feed format (docs/business-register.md "Change feed"), validated where
// it enters: one JSON object per line, each with an id, a type, the enterprise code and the day it happened.
import { z } from 'zod';
import { isoDate } from '../registry/change-feed-schema.ts';
import { nationalIdFormatProblem } from '../registry/national-id.ts';
import { todayInVietnam } from '../registry/record-schema.ts';
import { checkRegisterText, ENTERPRISE_CODE, MAX_TITLE } from './business-file.ts';

const nationalId = z.string().superRefine((value, ctx) => {
  const problem = nationalIdFormatProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `expected an ID number: ${problem.message}` });
});

const title = z.string().transform((value, ctx) => {
  const checked = checkRegisterText(value, MAX_TITLE);
  if (checked.problem !== undefined) ctx.addIssue({ code: 'custom', message: checked.problem });
  else if (checked.value.includes(';')) ctx.addIssue({ code: 'custom', message: 'contains ";" (the register file\'s separator)' });
  return checked.value ?? '';
});

const common = {
  /** The register's id of the event: unique, and the same every time the event is sent. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'expected 1 to 128 letters, digits, dots, dashes, colons or underscores'),
  enterprise_code: z.string().regex(ENTERPRISE_CODE, 'expected 10 digits, a branch adding -001 to -999'),
  /** The day of the decision: the new representative's appointment, the suspension, the dissolution, the resumption. */
  occurred_on: isoDate,
};

const representativeReplaced = z
  .object({ ...common, type: z.literal('representative_replaced'), previous_national_id: nationalId, national_id: nationalId, title })
  .strict()
  .refine((event) => event.previous_national_id !== event.national_id, { path: ['national_id'], message: 'expected someone other than previous_national_id' });
const suspended = z.object({ ...common, type: z.literal('suspended') }).strict();
const reactivated = z.object({ ...common, type: z.literal('reactivated') }).strict();
const dissolved = z.object({ ...common, type: z.literal('dissolved') }).strict();

export const BUSINESS_CHANGE_TYPES = ['representative_replaced', 'suspended', 'reactivated', 'dissolved'] as const;
export type BusinessChangeType = (typeof BUSINESS_CHANGE_TYPES)[number];

const changeEvent = z.discriminatedUnion('type', [representativeReplaced, suspended, reactivated, dissolved], {
  error: (issue) => (issue.code === 'invalid_union' ? `expected one of ${BUSINESS_CHANGE_TYPES.join(', ')}` : undefined),
});

export type BusinessChangeEvent = z.output<typeof changeEvent>;

/** Longest line read; an event is a few hundred bytes. */
export const MAX_LINE_LENGTH = 16 * 1024;

/** Parses one line of the feed into an event, or says in one line what is wrong with it. */
export function parseBusinessChangeLine(line: string, today: string = todayInVietnam()): { readonly event: BusinessChangeEvent } | { readonly problem: string } {
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
