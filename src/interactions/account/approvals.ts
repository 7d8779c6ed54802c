// HTTP for /account/approvals (signed in, and the CSRF token of every POST checked, by ./session.ts):
// the list, an approval with a second factor, a denial.
//
// Approving needs a factor given now, on this page: a 6-digit TOTP code (recovery codes are a way back
// into the account, not a way to vouch for oneself to a bank) or a passkey with user verification.
// The approval reaches urn:vn:eid:loa:2 for a level-2 account; a level-1 account reaches level 1 and
// so cannot approve a request for level 2 (every bank request without acr_values is one). An account
// without TOTP or passkey cannot approve at all, and is told so; anyone can deny.
import { Router } from '../../web/router.ts';
import type { BruteForceGuard } from '../../accounts/brute-force.ts';
import { hasStrongSecondFactor, type AccountFactors, type PasskeyChallenges, type SecondFactorCheck } from '../../accounts/second-factors.ts';
import { MAX_CREDENTIAL_LENGTH } from '../../accounts/passkey-sign-in.ts';
import { approvalAcr, type CibaApprovals, type PendingApproval } from '../../oidc/ciba/ciba-approvals.ts';
import type { ConsoleSession } from '../account-console.ts';
import { approvalShownText, approvalsPage, isApprovalMessageKey, type ApprovalItem, type ApprovalMessageKey } from './approvals-pages.ts';
import { switchHref } from '../../web/i18n.ts';
import type { AccountSession, Signed } from './session.ts';

const PAGE = '/account/approvals';

/** The factors used for an approval, on top of those of the console's sign-in. */
function approvalAmr(session: ConsoleSession, factor: 'otp' | 'hwk'): string[] {
  return [...new Set([...session.amr.filter((method) => method !== 'mfa'), factor, 'mfa'])];
}

/** What the approvals use. */
export interface ApprovalRoutesDependencies {
  readonly factors: Pick<AccountFactors, 'passkeyRequestOptions' | 'checkPasskeyAssertion'>;
  readonly ciba: CibaApprovals;
  readonly passkeyChallenges: PasskeyChallenges;
  readonly secondFactor: SecondFactorCheck;
  readonly bruteForce: BruteForceGuard;
}

export function approvalRoutes(deps: ApprovalRoutesDependencies, accountPage: AccountSession): Router {
  const challenges = deps.passkeyChallenges;
  const challengeScope = (signed: Signed, requestId: string) => `approve:${signed.sessionId}:${requestId}`;

  const blockedFor = (signed: Signed, item: PendingApproval): ApprovalItem['blocked'] => {
    if (!hasStrongSecondFactor(signed.factors)) return 'approvals.no_factor';
    if (signed.account.level < item.requiredLevel) return 'approvals.needs_level2';
    return undefined;
  };

  const show = async (signed: Signed, status: number, options: { notice?: ApprovalMessageKey; error?: { id: string; key: ApprovalMessageKey } } = {}) => {
    const { ctx, locale, account, factors } = signed;
    const pending = await deps.ciba.pending(account.id);
    const items: ApprovalItem[] = [];
    for (const item of pending) {
      const blocked = blockedFor(signed, item);
      let passkeyOptions: unknown;
      if (!blocked && factors.passkeys > 0) {
        const options = await deps.factors.passkeyRequestOptions(account.id);
        await challenges.remember(challengeScope(signed, item.id), options.challenge);
        passkeyOptions = options;
      }
      items.push({
        ...item,
        ...(blocked && { blocked }),
        ...(passkeyOptions !== undefined && { passkeyOptions }),
        ...(options.error?.id === item.id && { error: options.error.key }),
      });
    }
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = approvalsPage({
      locale,
      switchHref: switchHref(ctx.path, locale),
      csrf: signed.session.csrf,
      items,
      contacts: account,
      ...(options.notice && { notice: options.notice }),
    });
  };

  const flashAndReturn = (signed: Signed, notice: ApprovalMessageKey) => accountPage.flashAndReturn(signed, notice, PAGE);

  const list = async (signed: Signed) => {
    const flash = signed.session.flash;
    if (flash !== undefined) {
      signed.session = { ...signed.session, flash: undefined };
      await accountPage.saveSession(signed.sessionId, signed.session);
    }
    await show(signed, 200, isApprovalMessageKey(flash) ? { notice: flash } : {});
  };

  const approve = async (signed: Signed) => {
    const { ctx, locale, account, form } = signed;
    const requestId = form.get('request') ?? '';
    const item = await deps.ciba.find(account.id, requestId);
    if (!item) {
      await flashAndReturn(signed, 'approvals.gone');
      return;
    }
    const blocked = blockedFor(signed, item);
    if (blocked) {
      await show(signed, 403, { error: { id: item.id, key: blocked } });
      return;
    }
    if (!(await deps.bruteForce.allowAddress(ctx.ip))) {
      await show(signed, 429, { error: { id: item.id, key: 'approvals.locked' } });
      return;
    }
    let factor: 'otp' | 'hwk';
    const credential = form.get('credential') ?? '';
    if (credential !== '') {
      const challenge = await challenges.take(challengeScope(signed, item.id));
      const assertion =
        challenge !== undefined && credential.length <= MAX_CREDENTIAL_LENGTH
          ? await deps.factors.checkPasskeyAssertion({ credential, expectedChallenge: challenge, accountId: account.id })
          : undefined;
      if (!assertion) {
        await show(signed, 401, { error: { id: item.id, key: 'approvals.passkey_rejected' } });
        return;
      }
      factor = 'hwk';
    } else {
      const code = (form.get('otp') ?? '').replace(/\s+/g, '');
      // Only an authenticator app's code: SecondFactorCheck would also take a recovery code.
      const verdict = /^\d{6}$/.test(code) ? await deps.secondFactor.verify(account, code, { ip: ctx.ip }) : ({ outcome: 'invalid' } as const);
      if (verdict.outcome !== 'valid') {
        const key = verdict.outcome === 'locked' ? 'approvals.locked' : 'approvals.wrong_code';
        await show(signed, verdict.outcome === 'locked' ? 429 : 401, { error: { id: item.id, key } });
        return;
      }
      factor = 'otp';
    }
    const outcome = await deps.ciba.approve(account.id, item.id, {
      acr: approvalAcr(account.level),
      amr: approvalAmr(signed.session, factor),
      shown: { locale, text: approvalShownText(locale, item, account) },
      ip: ctx.ip,
    });
    await flashAndReturn(signed, outcome === 'approved' ? 'approvals.approved' : 'approvals.gone');
  };

  const deny = async (signed: Signed) => {
    const outcome = await deps.ciba.deny(signed.account.id, signed.form.get('request') ?? '', { ip: signed.ctx.ip });
    await flashAndReturn(signed, outcome === 'denied' ? 'approvals.denied' : 'approvals.gone');
  };

  // Approving asks for a second factor on the page itself; denying only takes access away.
  return new Router().get(PAGE, accountPage.get(list)).post(`${PAGE}/approve`, accountPage.post(approve)).post(`${PAGE}/deny`, accountPage.post(deny));
}
