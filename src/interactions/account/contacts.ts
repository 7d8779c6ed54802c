// The citizen's phone number and e-mail address on the account page: a new one is confirmed with a
// code sent to it; the e-mail address may go while a verified phone number stays.
import { createHash, randomInt } from 'node:crypto';
import { Router } from '../../web/router.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { EphemeralStore } from '../../storage/ephemeral-store.ts';
import type { Notifier } from '../../accounts/notifier.ts';
import { normalizeContact, type ContactKind } from '../../accounts/self-service.ts';
import type { PendingContact } from '../account-console.ts';
import { accountErrorPage } from './pages.ts';
import { contactCodeMessage, contactPage, type ContactError } from './contacts-pages.ts';
import { sameSecret } from '../../web/first-party-sign-in.ts';
import { frame, send, type AccountSession, type Signed } from './session.ts';

const CONTACT_CODE_MINUTES = 10;
const CONTACT_CODE_ATTEMPTS = 5;
const CONTACT_CODES_PER_WINDOW = 3;

const hashContactCode = (accountId: string, value: string, code: string) =>
  createHash('sha256').update(`${accountId}\n${value}\n${code}`).digest('hex');

export interface ContactRoutesDependencies {
  readonly accounts: Pick<AccountStore, 'saveVerifiedContact' | 'removeEmail'>;
  /** Counts the codes sent per account. */
  readonly ephemeral: Pick<EphemeralStore, 'increment'>;
  readonly notifier: Pick<Notifier, 'send'>;
}

export function contactRoutes(deps: ContactRoutesDependencies, account: AccountSession): Router {
  const sendContactCode = async (signed: Signed, kind: ContactKind) => {
    const { ctx, locale, account: holder } = signed;
    const input = (signed.form.get('value') ?? '').slice(0, 320);
    const fail = (error: ContactError, status: number) =>
      send(ctx, status, contactPage({ ...frame(ctx, locale), csrf: signed.session.csrf, kind, value: input, error }));
    const value = normalizeContact(kind, input);
    if (value === undefined) {
      fail(kind === 'phone' ? 'contacts.invalid_phone' : 'contacts.invalid_email', 400);
      return;
    }
    const currentValue = kind === 'phone' ? holder.phoneNumber : holder.email;
    const currentVerified = kind === 'phone' ? holder.phoneNumberVerified : holder.emailVerified;
    if (value === currentValue && currentVerified) {
      fail('contacts.same', 400);
      return;
    }
    const sent = await deps.ephemeral.increment(`account-console:contact-codes:{${holder.id}}`, CONTACT_CODE_MINUTES * 60);
    if (sent > CONTACT_CODES_PER_WINDOW) {
      fail('contacts.too_many_codes', 429);
      return;
    }
    const code = String(randomInt(1_000_000)).padStart(6, '0');
    const pendingContact: PendingContact = {
      kind,
      value,
      codeHash: hashContactCode(holder.id, value, code),
      attempts: 0,
      expiresAt: Date.now() + CONTACT_CODE_MINUTES * 60_000,
    };
    await deps.notifier.send({ channel: kind === 'phone' ? 'sms' : 'email', destination: value, ...contactCodeMessage(code, CONTACT_CODE_MINUTES) });
    signed.session = { ...signed.session, pendingContact };
    await account.saveSession(signed.sessionId, signed.session);
    send(ctx, 200, contactPage({ ...frame(ctx, locale), csrf: signed.session.csrf, kind, pendingValue: value }));
  };

  const confirmContact = async (signed: Signed, kind: ContactKind) => {
    const { ctx, locale, account: holder } = signed;
    const pending = signed.session.pendingContact;
    if (!pending || pending.kind !== kind || pending.expiresAt < Date.now() || pending.attempts >= CONTACT_CODE_ATTEMPTS) {
      signed.session = { ...signed.session, pendingContact: undefined };
      await account.saveSession(signed.sessionId, signed.session);
      send(ctx, 400, accountErrorPage(frame(ctx, locale), 'contacts.code_expired'));
      return;
    }
    const code = (signed.form.get('code') ?? '').replace(/\s/g, '');
    if (!/^\d{6}$/.test(code) || !sameSecret(hashContactCode(holder.id, pending.value, code), pending.codeHash)) {
      signed.session = { ...signed.session, pendingContact: { ...pending, attempts: pending.attempts + 1 } };
      await account.saveSession(signed.sessionId, signed.session);
      send(ctx, 400, contactPage({ ...frame(ctx, locale), csrf: signed.session.csrf, kind, pendingValue: pending.value, error: 'contacts.wrong_code' }));
      return;
    }
    await deps.accounts.saveVerifiedContact(holder.id, kind, pending.value);
    signed.session = { ...signed.session, pendingContact: undefined };
    const change = kind === 'phone' ? 'phone.changed' : 'email.changed';
    await account.audit(signed, change);
    // The contacts as they were (the old one learns of the change) and the new one.
    await account.notify(holder, change, [{ channel: kind === 'phone' ? 'sms' : 'email', destination: pending.value }]);
    await account.flashAndReturn(signed, 'notice.contact_changed');
  };

  const router = new Router();
  for (const kind of ['phone', 'email'] as const) {
    const page = `/account/contacts/${kind}`;
    router
      .get(
        page,
        account.get(
          (signed) => {
            send(signed.ctx, 200, contactPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf, kind }));
            return Promise.resolve();
          },
          { fresh: true },
        ),
      )
      .post(page, account.post((signed) => sendContactCode(signed, kind), { fresh: page }))
      .post(`${page}/confirm`, account.post((signed) => confirmContact(signed, kind), { fresh: page }));
  }
  return router.post(
    '/account/contacts/email/remove',
    account.post(
      async (signed) => {
        const { account: holder } = signed;
        if (!holder.email) {
          await account.flashAndReturn(signed, 'notice.email_removed');
          return;
        }
        if (!(holder.phoneNumber && holder.phoneNumberVerified)) {
          send(signed.ctx, 400, accountErrorPage(frame(signed.ctx, signed.locale), 'contacts.keep_one'));
          return;
        }
        await deps.accounts.removeEmail(holder.id);
        await account.audit(signed, 'email.removed');
        await account.notify(holder, 'email.removed');
        await account.flashAndReturn(signed, 'notice.email_removed');
      },
      { fresh: '/account' },
    ),
  );
}
