// The error every client-registration check throws, in its own module so that the checks
// (client keys, settings, resource servers) and the repository that runs them need not import each other.

/** Input an administrator got wrong; the message says which field and why. */
export class InvalidClientRegistration extends Error {
  override readonly name = 'InvalidClientRegistration';
}
