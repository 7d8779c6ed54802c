// What the quickstart adds around the provider: the demo data and the sign-ins it prints.
import type { Server } from './server.ts';
import { seedDemoData } from './admin/demo-data.ts';

export interface QuickstartExtras {
  close(): Promise<void>;
}

export async function startQuickstartExtras(server: Server): Promise<QuickstartExtras | undefined> {
  const { config, logger } = server.container;
  if (!config.demo.seed) return undefined;
  await seedDemoData(server.container);
  logger.info('demo data loaded');
  const lines = [
    '',
    `  citizen-idp is running: issuer ${config.issuer}`,
    `  discovery: ${config.issuer}/.well-known/openid-configuration`,
    `  admin port: http://${config.host}:${config.adminPort}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return { close: () => Promise.resolve() };
}
