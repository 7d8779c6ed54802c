// The server process: configuration, storage, both listeners, and a graceful stop on SIGINT/SIGTERM.
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { ConfigError, isQuickstart, loadConfig, type Config } from './config/config.ts';
import { buildServer } from './server.ts';
import { startQuickstartExtras } from './quickstart.ts';

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
function closeGracefully(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server.close(() => {
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
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

  const server = await buildServer(config);
  const { logger } = server.container;
  const publicServer = createServer(server.publicApp.callback() as RequestListener);
  const adminServer = createServer(server.adminApp.callback() as RequestListener);
  await listen(publicServer, config.port, config.host);
  await listen(adminServer, config.adminPort, config.host);
  logger.info({ issuer: config.issuer, port: config.port, adminPort: config.adminPort }, 'citizen-idp is listening');
  const extras = isQuickstart(config) || config.env !== 'production' ? await startQuickstartExtras(server) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await Promise.all([closeGracefully(publicServer), closeGracefully(adminServer), extras?.close()]);
    await server.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));
}

