// Second factors on the account page: an authenticator app (TOTP), passkeys, and recovery codes. A
// level-2 account keeps at least one strong factor; after an officer reset the factors, the first
// enrolment needs the code handed over in person.
import QRCode from 'qrcode';
import { Router } from '../../web/router.ts';
import type { Logger } from '../../observability/logger.ts';
import type { KeyEncryption } from '../../storage/key-encryption.ts';
import { newTotpSecret, totpUri, type TotpVerifier } from '../../accounts/totp.ts';
import type { EnrolmentHandover } from '../../accounts/enrolment-handover.ts';
import { PasskeyRejected, hasStrongSecondFactor, type AccountFactors, type PasskeyChallenges, type SecondFactors } from '../../accounts/second-factors.ts';
import { t } from './pages.ts';
import { passkeyPage, recoveryCodesPage, totpPage, type HandoverError } from './factors-pages.ts';
import { frame, send, type AccountSession, type Signed } from './session.ts';

export interface FactorRoutesDependencies {
  readonly logger: Logger;
  readonly factors: Pick<AccountFactors, 'enrolTotp' | 'removeTotp' | 'issueRecoveryCodes' | 'passkeyCreationOptions' | 'registerPasskey' | 'removePasskey'>;
  readonly sealer: KeyEncryption;
  readonly totp: Pick<TotpVerifier, 'verify'>;
  readonly passkeyChallenges: PasskeyChallenges;
  readonly enrolmentHandover: EnrolmentHandover;
}

/** Masked ID number: tells accounts apart in an authenticator app or a passkey picker. */
const maskedIdOf = (nationalId: string) => `${nationalId.slice(0, 3)}•••${nationalId.slice(-3)}`;

export function factorRoutes(deps: FactorRoutesDependencies, account: AccountSession): Router {
  const { factors, sealer, enrolmentHandover: handover, passkeyChallenges: challenges } = deps;

  /** The handover code, when one is outstanding: `code` to spend once the enrolment succeeds, or the error to show. */
  const checkHandover = async (signed: Signed): Promise<{ code?: string; error?: HandoverError }> => {
    const code = signed.form.get('handover_code') ?? '';
    const outcome = await handover.check(signed.account.id, code);
    if (outcome === 'not-required') return {};
    if (outcome === 'valid') return { code };
    return { error: outcome === 'expired' ? 'handover.expired' : 'handover.wrong' };
  };

  /** A level-2 account keeps at least one strong factor. */
  const wouldLoseLastFactor = (signed: Signed, after: SecondFactors) =>
    signed.account.level === 2 && hasStrongSecondFactor(signed.factors) && !hasStrongSecondFactor(after);

  const showTotp = async (signed: Signed, status = 200, error?: 'totp.wrong_code' | HandoverError) => {
    const { ctx, locale, account: holder } = signed;
    const context = `totp-pending:${holder.id}`;
    let secret = signed.session.pendingTotp ? sealer.open(signed.session.pendingTotp, context) : undefined;
    if (secret === undefined) {
      secret = newTotpSecret();
      signed.session = { ...signed.session, pendingTotp: sealer.seal(secret, context) };
      await account.saveSession(signed.sessionId, signed.session);
    }
    // The label names the service and a masked ID number, so the citizen tells accounts apart.
    const qrSvg = await QRCode.toString(totpUri(secret, maskedIdOf(holder.nationalId)), { type: 'svg', margin: 2, width: 200, errorCorrectionLevel: 'M' });
    const needsHandover = await handover.required(holder.id);
    send(ctx, status, totpPage({ ...frame(ctx, locale), csrf: signed.session.csrf, secret, qrSvg, replacing: signed.factors.totp, handover: needsHandover, ...(error && { error }) }));
  };

  const confirmTotp = async (signed: Signed) => {
    const { account: holder } = signed;
    const pending = signed.session.pendingTotp;
    if (!pending) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account/totp');
      return;
    }
    const secret = sealer.open(pending, `totp-pending:${holder.id}`);
    const gate = await checkHandover(signed);
    if (gate.error) {
      await showTotp(signed, 400, gate.error);
      return;
    }
    const code = (signed.form.get('code') ?? '').replace(/\s/g, '');
    const outcome = await deps.totp.verify(holder.id, secret, code);
    if (outcome !== 'valid') {
      await showTotp(signed, 400, 'totp.wrong_code');
      return;
    }
    if (gate.code !== undefined && !(await handover.spend(holder.id, gate.code))) {
      await showTotp(signed, 400, 'handover.expired');
      return;
    }
    await factors.enrolTotp(holder, secret);
    signed.session = { ...signed.session, pendingTotp: undefined };
    await account.audit(signed, 'totp.enrolled', { replaced: signed.factors.totp, ...(gate.code !== undefined && { handoverCode: 'spent' }) });
    await account.notify(holder, 'totp.enrolled');
    await account.flashAndReturn(signed, 'notice.totp_enrolled');
  };

  const removeTotp = async (signed: Signed) => {
    if (wouldLoseLastFactor(signed, { ...signed.factors, totp: false, totpEnrolledAt: null })) {
      await account.flashAndReturn(signed, 'notice.last_factor');
      return;
    }
    if (!(await factors.removeTotp(signed.account.id))) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account');
      return;
    }
    await account.audit(signed, 'totp.removed');
    await account.notify(signed.account, 'totp.removed');
    await account.flashAndReturn(signed, 'notice.totp_removed');
  };

  const createRecoveryCodes = async (signed: Signed) => {
    const codes = await factors.issueRecoveryCodes(signed.account.id);
    await account.audit(signed, 'recovery_codes.generated', { count: codes.length });
    await account.notify(signed.account, 'recovery_codes.generated');
    send(signed.ctx, 200, recoveryCodesPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf, codes }));
  };

  const showPasskeyEnrolment = async (signed: Signed, status = 200, error?: 'passkeys.rejected' | 'passkeys.needs_js' | HandoverError, name = '') => {
    const { ctx, locale, account: holder } = signed;
    const record = await account.registryRecordOf(holder);
    const displayName = record && record !== 'unavailable' ? record.fullName : holder.nationalId;
    const options = await factors.passkeyCreationOptions({
      accountId: holder.id,
      // Shown by the device's passkey picker: the name, and a masked ID number to tell accounts apart.
      userName: maskedIdOf(holder.nationalId),
      displayName,
    });
    await challenges.remember(`register:${signed.sessionId}`, options.challenge);
    send(
      ctx,
      status,
      passkeyPage({
        ...frame(ctx, locale),
        csrf: signed.session.csrf,
        options,
        name: name || t(locale, 'passkeys.default_name'),
        handover: await handover.required(holder.id),
        ...(error && { error }),
      }),
    );
  };

  const addPasskey = async (signed: Signed) => {
    const credential = signed.form.get('credential') ?? '';
    const name = (signed.form.get('name') ?? '').trim();
    if (credential === '') {
      await showPasskeyEnrolment(signed, 400, 'passkeys.needs_js', name);
      return;
    }
    const gate = await checkHandover(signed);
    if (gate.error) {
      await showPasskeyEnrolment(signed, 400, gate.error, name);
      return;
    }
    const challenge = await challenges.take(`register:${signed.sessionId}`);
    if (challenge === undefined) {
      await showPasskeyEnrolment(signed, 400, 'passkeys.rejected', name);
      return;
    }
    try {
      const passkey = await factors.registerPasskey({
        accountId: signed.account.id,
        credential,
        expectedChallenge: challenge,
        name: name || t(signed.locale, 'passkeys.default_name'),
      });
      // Spent once the passkey verified; lost to a racing enrolment, the passkey goes again.
      if (gate.code !== undefined && !(await handover.spend(signed.account.id, gate.code))) {
        await factors.removePasskey(signed.account.id, passkey.credentialId);
        await showPasskeyEnrolment(signed, 400, 'handover.expired', name);
        return;
      }
      await account.audit(signed, 'passkey.added', { passkey: passkey.name, ...(gate.code !== undefined && { handoverCode: 'spent' }) });
      await account.notify(signed.account, 'passkey.added');
      await account.flashAndReturn(signed, 'notice.passkey_added');
    } catch (error) {
      if (!(error instanceof PasskeyRejected)) throw error;
      deps.logger.info({ err: error }, 'a passkey enrolment was refused');
      await showPasskeyEnrolment(signed, 400, 'passkeys.rejected', name);
    }
  };

  const deletePasskey = async (signed: Signed) => {
    const credentialId = signed.form.get('credential_id') ?? '';
    if (!/^[A-Za-z0-9_-]{1,2048}$/.test(credentialId)) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account');
      return;
    }
    if (wouldLoseLastFactor(signed, { ...signed.factors, passkeys: signed.factors.passkeys - 1 })) {
      await account.flashAndReturn(signed, 'notice.last_factor');
      return;
    }
    if (!(await factors.removePasskey(signed.account.id, credentialId))) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account');
      return;
    }
    await account.audit(signed, 'passkey.removed');
    await account.notify(signed.account, 'passkey.removed');
    await account.flashAndReturn(signed, 'notice.passkey_removed');
  };

  return new Router()
    .get('/account/totp', account.get((signed) => showTotp(signed), { fresh: true }))
    .post('/account/totp', account.post(confirmTotp, { fresh: '/account/totp' }))
    .post('/account/totp/remove', account.post(removeTotp, { fresh: '/account' }))
    .get(
      '/account/recovery-codes',
      account.get(
        (signed) => {
          send(signed.ctx, 200, recoveryCodesPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf }));
          return Promise.resolve();
        },
        { fresh: true },
      ),
    )
    .post('/account/recovery-codes', account.post(createRecoveryCodes, { fresh: '/account/recovery-codes' }))
    .get('/account/passkeys/new', account.get((signed) => showPasskeyEnrolment(signed), { fresh: true }))
    .post('/account/passkeys', account.post(addPasskey, { fresh: '/account/passkeys/new' }))
    .post('/account/passkeys/remove', account.post(deletePasskey, { fresh: '/account' }));
}
