// The `clients add` options for CIBA (src/oidc/ciba/ciba-registration.ts): how a bank client receives its
// answers. Without them a bank client polls, when it can have CIBA at all.
import { InvalidClientRegistration } from '../oidc/clients/clients.ts';
import type { CibaRegistration } from '../oidc/ciba/ciba-registration.ts';

export const CIBA_OPTIONS = {
  ciba: { type: 'string' },
  'ciba-notification-endpoint': { type: 'string' },
} as const;

export const CIBA_USAGE = `              [--ciba poll|ping|off] [--ciba-notification-endpoint URI]`;

/** The `ciba` of a registration from the parsed options; `{}` when none was given (the profile's default). */
export function cibaOf(options: { ciba?: string; 'ciba-notification-endpoint'?: string }): { ciba?: CibaRegistration | false } {
  const mode = options.ciba;
  const endpoint = options['ciba-notification-endpoint'];
  if (mode === undefined) {
    if (endpoint !== undefined) throw new InvalidClientRegistration('--ciba-notification-endpoint: needs --ciba ping');
    return {};
  }
  if (mode === 'off') {
    if (endpoint !== undefined) throw new InvalidClientRegistration('--ciba-notification-endpoint: needs --ciba ping');
    return { ciba: false };
  }
  if (mode !== 'poll' && mode !== 'ping') throw new InvalidClientRegistration(`--ciba: poll, ping or off, got "${mode}"`);
  return { ciba: { deliveryMode: mode, ...(endpoint !== undefined && { notificationEndpoint: endpoint }) } };
}
