// Vietnamese names: family name first, given name last (docs/domain.md "Names").

export interface NameParts {
  readonly familyName: string;
  readonly middleName: string;
  readonly givenName: string;
  readonly fullName: string;
}

/** Splits an NFC-normalised full name: first word family, last word given, between them middle. */
export function splitFullName(fullName: string): NameParts {
  const words = fullName.normalize('NFC').trim().split(/\s+/);
  const familyName = words[0] ?? '';
  const givenName = words.length > 1 ? words[words.length - 1]! : '';
  const middleName = words.slice(1, -1).join(' ');
  return { familyName, middleName, givenName, fullName: words.join(' ') };
}

/** Lower-case ASCII form for search: diacritics dropped, Đ/đ → d. */
export function foldName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '')
    .replace(/[Đđ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}
