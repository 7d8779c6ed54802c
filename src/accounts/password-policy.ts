// What a new password must be: at least 10 characters, not a common password, and not built from
// what a photocopy of the identity card reveals (the ID number, the birth date).
import { COMMON_PASSWORDS } from './common-passwords.ts';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_NEW_PASSWORD_LENGTH = 256;

export type PasswordProblem = 'too-short' | 'too-long' | 'common' | 'contains-id-number' | 'contains-birth-date';

const common = new Set(COMMON_PASSWORDS.map((password) => password.toLowerCase()));

/** The ways a birth date (YYYY-MM-DD) is commonly written into a password. */
function birthDateForms(birthDate: string): string[] {
  const [year, month, day] = birthDate.split('-') as [string, string, string];
  return [
    `${year}${month}${day}`,
    `${day}${month}${year}`,
    `${day}${month}${year.slice(2)}`,
    `${day}/${month}/${year}`,
    `${day}-${month}-${year}`,
    `${day}.${month}.${year}`,
    `${year}-${month}-${day}`,
  ];
}

/** The first problem with a proposed password, or undefined when it may be used. */
export function passwordProblem(password: string, person: { nationalId: string; birthDate: string }): PasswordProblem | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (length > MAX_NEW_PASSWORD_LENGTH) return 'too-long';
  const lower = password.normalize('NFC').toLowerCase();
  // Common passwords with a digit or symbol tacked on are just as guessable.
  const stem = lower.replace(/[\d!@#$%^&*.?_-]+$/, '');
  if (common.has(lower) || (stem.length >= 6 && common.has(stem))) return 'common';
  if (lower.includes(person.nationalId) || lower.includes(person.nationalId.slice(-6))) return 'contains-id-number';
  if (birthDateForms(person.birthDate).some((form) => lower.includes(form))) return 'contains-birth-date';
  return undefined;
}
