// A test server for the account page: startTestServer, optionally with the issuer on `localhost`
// (WebAuthn refuses an IP address as relying-party id, so passkey tests need a name), and the
// outbox at hand.
import { OutboxNotifier, type OutboxMessage } from '../../src/accounts/notifier.ts';
import { startTestServer, type RunningServer } from './world.ts';

export interface AccountWorld extends RunningServer {
  /** Messages sent to a destination, newest first. */
  outbox(destination: string): Promise<OutboxMessage[]>;
}

export async function startAccountServer(options: { issuerHost?: 'localhost' | '127.0.0.1' } = {}): Promise<AccountWorld> {
  const world = await startTestServer({ ...(options.issuerHost === 'localhost' && { issuerHost: 'localhost' }) });
  const notifier = world.server.container.notifier;
  return {
    ...world,
    outbox: (destination) => (notifier instanceof OutboxNotifier ? notifier.list({ destination }) : Promise.resolve([])),
  };
}
