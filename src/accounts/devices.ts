// Sign-ins from a new device are told to every verified contact of the account (a stolen password
// used elsewhere shows up on the citizen's phone). A device is a browser holding our device cookie;
// only its hash is stored.
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import type { Account } from './accounts.ts';
import type { AccountStore } from './account-store.ts';
import type { Notifier } from './notifier.ts';
import { notifyContacts } from './self-service.ts';

export const DEVICE_COOKIE = 'cidp_device';
/** About thirteen months, the longest browsers keep a cookie. */
export const DEVICE_COOKIE_MAX_AGE_MS = 400 * 24 * 60 * 60 * 1000;

export function newDeviceId(): string {
  return randomBytes(32).toString('base64url');
}

const NOTICE = {
  subject: 'Đăng nhập từ thiết bị mới / Sign-in from a new device',
  body:
    'Tài khoản định danh điện tử của bạn vừa được đăng nhập từ một thiết bị mới. Nếu không phải bạn, hãy đổi mật khẩu hoặc khóa tài khoản tại trang tài khoản.\n' +
    'Your electronic identity was just used to sign in from a new device. If this was not you, change your password or lock your account on your account page.',
};

export class DeviceNotices {
  readonly #store: Pick<AccountStore, 'rememberDevice'>;
  readonly #notifier: Notifier;
  readonly #logger: Logger;

  constructor(deps: { store: Pick<AccountStore, 'rememberDevice'>; notifier: Notifier; logger: Logger }) {
    this.#store = deps.store;
    this.#notifier = deps.notifier;
    this.#logger = deps.logger;
  }

  /**
   * Records a successful sign-in from a device; a device never seen for this account gets its
   * contacts told. The notice is queued (one INSERT) and delivered after the answer; if it cannot be
   * queued, the sign-in still goes on.
   */
  async signedIn(account: Account, deviceId: string | undefined): Promise<void> {
    if (!deviceId || !/^[A-Za-z0-9_-]{43}$/.test(deviceId)) return;
    const deviceHash = createHash('sha256').update(deviceId).digest('base64url');
    const { isNew, known } = await this.#store.rememberDevice(account.id, deviceHash);
    // The very first device of an account is where it was created: nothing to warn about.
    if (!isNew || known <= 1) return;
    await notifyContacts(this.#notifier, account, NOTICE).catch((error: unknown) =>
      this.#logger.warn({ err: error }, 'could not queue the notice of a sign-in from a new device'),
    );
  }
}
