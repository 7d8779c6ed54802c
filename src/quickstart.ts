// What the quickstart adds around the provider once it listens: the demo portal (on
// http://localhost:4000 by default), the demo bank (FAPI 2.0, step by step, on http://127.0.0.1:4003),
// and the demo sign-ins printed for whoever started it.
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import type { Server } from './server.ts';
import path from 'node:path';
import { DEMO_CITIZENS, demoOrigins } from './admin/demo-data.ts';
import { clusterDirectory } from './storage/embedded-postgres.ts';

export interface QuickstartExtras {
  close(): Promise<void>;
}

/** Starts the demo portal and bank and prints the demo sign-ins (to `out`); the demo data is already loaded. */
export async function startDemo(server: Server, out: Pick<NodeJS.WritableStream, 'write'> = process.stdout): Promise<QuickstartExtras> {
  const { config, logger } = server.container;
  // The origins the demo clients were registered with (src/admin/demo-data.ts).
  const origins = demoOrigins(config.demo);

  // Imported here so that production (which never seeds) never loads the demo relying party.
  const { createDemoPortal } = await import('./demo/portal.ts');
  const portal = createDemoPortal({
    issuer: config.issuer,
    clientId: 'demo-portal',
    clientSecret: 'demo-portal-secret',
    baseUrl: origins.portal,
    scope: 'openid profile address national_id phone email',
  });
  const portalServer: HttpServer = createServer(portal.callback() as RequestListener);
  const portalUp = await new Promise<boolean>((resolve) => {
    portalServer.once('error', (error) => {
      logger.warn({ err: error, port: config.demo.portalPort }, 'the demo portal could not listen; the provider runs without it');
      resolve(false);
    });
    portalServer.listen(config.demo.portalPort, config.host, () => resolve(true));
  });

  // The demo bank: its key is the published demo key.
  const { createDemoBank } = await import('./demo/bank.ts');
  const { DEMO_BANK_PRIVATE_JWK } = await import('./demo/demo-bank-key.ts');
  const bank = createDemoBank({
    issuer: config.issuer,
    clientId: 'demo-bank',
    privateJwk: DEMO_BANK_PRIVATE_JWK,
    baseUrl: origins.bank,
    scope: 'openid profile national_id identity_document',
    // The chip step reads a test chip of a demo citizen (src/chip/test-chip.ts), signed by the quickstart's test authority.
    readChip: async (nationalId) => {
      const { ensureTestAuthority, issueTestChip } = await import('./chip/test-chip.ts');
      const record = await server.container.registry.findByNationalId(nationalId);
      if (!record) throw new Error(`no registry record ${nationalId}`);
      return issueTestChip(record, (await ensureTestAuthority(config.dataDir)).documentSigner);
    },
  });
  const bankServer: HttpServer = createServer(bank.callback() as RequestListener);
  const bankUp = await new Promise<boolean>((resolve) => {
    bankServer.once('error', (error) => {
      logger.warn({ err: error, port: config.demo.bankPort }, 'the demo bank could not listen; the provider runs without it');
      resolve(false);
    });
    bankServer.listen(config.demo.bankPort, config.host, () => resolve(true));
  });

  // Read from the accounts, not the demo data: a citizen the demo left without one may have registered since.
  const people = await Promise.all(
    DEMO_CITIZENS.map(async ({ record, account }) => {
      const who = `${record.nationalId}  ${record.fullName}`.padEnd(38);
      if (!account) {
        const registered = await server.container.accounts.findByNationalId(record.nationalId);
        return registered
          ? `    ${who} level ${registered.level}, registered here (the password chosen then)`
          : `    ${who} no account yet (can register)`;
      }
      const factor = account.totpSecret ? `, TOTP secret ${account.totpSecret}` : '';
      const note = record.diedOn ? '  (deceased: sign-in is refused)' : '';
      return `    ${who} level ${account.level}, password ${account.password}${factor}${note}`;
    }),
  );
  const cluster = config.databaseUrl === undefined ? clusterDirectory(config.dataDir) : undefined;
  const linked = path.resolve(config.dataDir, 'postgres');
  const lines = [
    '',
    `  citizen-idp is running — issuer ${config.issuer}`,
    portalUp ? `  Open the demo portal: ${origins.portal}` : '  (demo portal not started: its port is taken)',
    bankUp
      ? `  The demo bank, FAPI 2.0 step by step (level 2: 001099012345 with TOTP): ${origins.bank}`
      : '  (demo bank not started: its port is taken)',
    `  Discovery: ${config.issuer}/.well-known/openid-configuration`,
    ...(cluster
      ? [
          `  Embedded PostgreSQL on 127.0.0.1:${config.embeddedPostgresPort}, its cluster in ${cluster}` +
            (cluster === linked ? '' : ` (linked from ${linked}: run as root, it runs as the postgres user)`),
        ]
      : []),
    `  A citizen's own account page: ${config.issuer}/account · register: ${config.issuer}/register`,
    // The outbox holds registration and reset codes: it is the console's, for support officers (docs/administration.md "The outbox").
    `  Admin console: http://${config.host}:${config.adminPort}/console/ — sign in as 001099012345 (password and TOTP below) once granted a role:`,
    `    npm run cli -- admins grant 001099012345 support_officer   accounts, and the outbox: codes and notices sent to citizens (/console/outbox)`,
    `    npm run cli -- admins grant 001099012345 client_admin      relying parties and signing keys`,
    '',
    '  Demo citizens (ID number, name, account):',
    ...people,
    '',
  ];
  out.write(`${lines.join('\n')}\n`);
  const stop = (up: boolean, http: HttpServer) =>
    new Promise<void>((resolve) => {
      if (!up) return resolve();
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return {
    close: async () => {
      await Promise.all([stop(portalUp, portalServer), stop(bankUp, bankServer)]);
    },
  };
}
