// The error every client-registration check throws, in its own module so that the checks
// (client keys, settings, resource servers) and the repository that runs them need not import each other.

/**
 * Why a registration is refused, stable for callers that word it themselves (the admin console's
 * catalogue); `invalid` where a check gives no finer reason.
 */
export type RegistrationIssueCode =
  | 'invalid'
  | 'invalid_format'
  | 'invalid_value'
  | 'too_big'
  | 'required'
  | 'not_for_profile'
  | 'unknown_scope'
  | 'service_only'
  | 'not_absolute_url'
  | 'fragment'
  | 'https_required'
  | 'loopback_production'
  | 'credentials_in_url'
  | 'one_sector_host'
  | 'native_redirect'
  | 'needs_backchannel_uri';

/** Input an administrator got wrong; the message says which field and why, `code` why in a word. */
export class InvalidClientRegistration extends Error {
  override readonly name = 'InvalidClientRegistration';
  readonly code: RegistrationIssueCode;
  /** The field the message opens with (`redirect_uris: …`), as the client metadata names it; '' when it names none. */
  readonly field: string;
  constructor(message: string, code: RegistrationIssueCode = 'invalid') {
    super(message);
    this.code = code;
    this.field = /^([A-Za-z_][\w.[\] ]*):\s/.exec(message)?.[1] ?? '';
  }
}
