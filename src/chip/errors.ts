// What a chip read that cannot be understood raises: the request's fault (400), not a refusal. A chip
// that is well-formed but not genuine, or not this person's, is a refusal (a result), never this.
export class ChipFormatError extends Error {
  override readonly name = 'ChipFormatError';
}

/** Runs a parser over untrusted bytes: whatever it throws other than a ChipFormatError becomes one (a 400, never a 500). */
export function readable<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ChipFormatError) throw error;
    throw new ChipFormatError(`${what}: unreadable (${error instanceof Error ? error.message : 'malformed'})`);
  }
}
