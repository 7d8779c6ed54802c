// What a chip read that cannot be understood raises: the request's fault (400), not a refusal. A chip
// that is well-formed but not genuine, or not this person's, is a refusal (a result), never this.
export class ChipFormatError extends Error {
  override readonly name = 'ChipFormatError';
}
