// What a citizen changes about their own account on the account page — contacts, password, a lock —
// and the security notice every such change sends to each verified contact.
import type { Account } from './accounts.ts';
import type { AccountStore, ContactKind } from './account-store.ts';
import type { Message, Notifier } from './notifier.ts';

export type { ContactKind } from './account-store.ts';

/** Vietnamese mobile numbers in E.164 (+84 and nine digits); a leading 0 is read as +84. */
export function normalizePhoneNumber(input: string): string | undefined {
  const compact = input.replace(/[\s.()-]/g, '');
  const national = compact.startsWith('+84') ? compact.slice(3) : compact.startsWith('84') && compact.length === 11 ? compact.slice(2) : compact.startsWith('0') ? compact.slice(1) : undefined;
  return national !== undefined && /^[35789]\d{8}$/.test(national) ? `+84${national}` : undefined;
}

/** A plausible e-mail address, lower-cased; the confirmation code proves the rest. */
export function normalizeEmail(input: string): string | undefined {
  const email = input.trim().toLowerCase();
  return email.length <= 254 && /^[^\s@<>()",;:]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(email) ? email : undefined;
}

export function normalizeContact(kind: ContactKind, input: string): string | undefined {
  return kind === 'phone' ? normalizePhoneNumber(input) : normalizeEmail(input);
}

/** The holder's own lock (a lost phone): only an office unlocks it, after checking who asks. True when this call locked it. */
export async function lockOwnAccount(store: Pick<AccountStore, 'lock'>, accountId: string, reason: string): Promise<boolean> {
  return (await store.lock({ id: accountId }, reason))?.lockedNow ?? false;
}

/** Where security notices go: every contact of the account that was verified. */
export function verifiedContactsOf(account: Pick<Account, 'phoneNumber' | 'phoneNumberVerified' | 'email' | 'emailVerified'>): {
  channel: Message['channel'];
  destination: string;
}[] {
  return [
    ...(account.phoneNumber && account.phoneNumberVerified ? [{ channel: 'sms' as const, destination: account.phoneNumber }] : []),
    ...(account.email && account.emailVerified ? [{ channel: 'email' as const, destination: account.email }] : []),
  ];
}

/**
 * Queues one notice to each verified contact (and to `extra` destinations, such as a contact being
 * replaced), in one INSERT; they are delivered after the answer. Contacts carry no language
 * preference, so notices are in Vietnamese and English.
 */
export async function notifyContacts(
  notifier: Pick<Notifier, 'enqueue'>,
  account: Pick<Account, 'phoneNumber' | 'phoneNumberVerified' | 'email' | 'emailVerified'>,
  notice: { readonly subject: string; readonly body: string },
  extra: readonly { channel: Message['channel']; destination: string }[] = [],
): Promise<number> {
  const contacts = [...verifiedContactsOf(account), ...extra].filter(
    (contact, index, all) => all.findIndex((other) => other.destination === contact.destination) === index,
  );
  await notifier.enqueue(contacts.map((contact) => ({ ...contact, subject: notice.subject, body: notice.body })));
  return contacts.length;
}
