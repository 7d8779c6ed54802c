// The server process: configuration, storage, both listeners, and a graceful stop on SIGINT/SIGTERM.
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { buildServer, type Server } from './server.ts';
import { startDemo, type QuickstartExtras } from './quickstart.ts';
import { seedDemoData } from './admin/demo-data.ts';

const SHUTDOWN_DEADLINE_MS = 10_000;

function listen(server: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, lets in-flight requests finish (up to a deadline), then drops what is left. */
export function closeGracefully(server: HttpServer, deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    deadline.unref();
    // A keep-alive connection whose request has just been answered is idle: close it then, rather
    // than wait for the client to give it up (seconds).
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.close(() => {
      clearTimeout(deadline);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Shutdown's first half: report draining (/readyz 503) while still serving for `drainMs`, so the load
 * balancer stops sending requests here before the listeners stop accepting; then close them gracefully.
 */
export async function drainAndClose(server: Pick<Server, 'startDraining'>, listeners: readonly HttpServer[], drainMs: number): Promise<void> {
  server.startDraining();
  if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
  await Promise.all(listeners.map((listener) => closeGracefully(listener)));
}

export async function serve(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`citizen-idp: invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }

  // Signals are heard from the first moment: one that arrives while the embedded database starts or
  // migrations run is honoured once they are done, so the database is never left running alone.
  const shutdown: { stop?: (signal: string) => Promise<void> } = {};
  let pendingSignal: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shutdown.stop) void shutdown.stop(signal);
    else pendingSignal ??= signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const server = await buildServer(config);
  const { logger } = server.container;
  const publicServer = createServer(server.publicApp.callback() as RequestListener);
  const adminServer = createServer(server.adminApp.callback() as RequestListener);
  let extras: QuickstartExtras | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drainSeconds: config.probes.drainSeconds }, 'shutting down: draining');
    await Promise.all([drainAndClose(server, [publicServer, adminServer], config.probes.drainSeconds * 1000), extras?.close()]);
    await server.close();
    logger.info('stopped');
    process.exit(0);
  };
  shutdown.stop = stop;

  try {
    // Demo data before the first request can arrive, so the demo clients exist when discovery answers.
    if (config.demo.seed) await seedDemoData(server.container);
    if (pendingSignal) return await stop(pendingSignal);
    await listen(publicServer, config.port, config.host);
    await listen(adminServer, config.adminPort, config.host);
    logger.info({ issuer: config.issuer, port: config.port, adminPort: config.adminPort }, 'citizen-idp is listening');
    if (config.demo.seed) extras = await startDemo(server);
  } catch (error) {
    publicServer.close();
    adminServer.close();
    await server.close();
    throw error;
  }
  if (pendingSignal) await stop(pendingSignal);
}
