import { Command } from 'commander';
import { createLogger } from '../../log.js';
import { claimDataDir, DataDirInUseError, type DataDirClaim } from '../../server/data-dir-lock.js';
import { reloadOnSignal } from '../../server/reload.js';
import type { RunningServer } from '../../server/start.js';
import { configFrom } from '../context.js';
import { CliError, emit, run } from '../output.js';

/** How long a stop may take to finish requests in flight before the process exits anyway. */
export const DRAIN_BOUND_MS = 15_000;

function claim(config: Parameters<typeof claimDataDir>[0]): DataDirClaim {
  try {
    return claimDataDir(config);
  } catch (err) {
    if (err instanceof DataDirInUseError) throw new CliError(err.message);
    throw err;
  }
}

/**
 * SIGTERM/SIGINT: /health/ready turns 503 at once; the node keeps serving for
 * listeners.drainDelayMs (a load balancer takes it out), then stops accepting connections,
 * finishes requests in flight and exits 0 (1 past the bound). SIGHUP reloads what it can.
 */
function handleSignals(server: RunningServer, dataDir: DataDirClaim, reread: () => ReturnType<typeof configFrom>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const delay = server.config.listeners.drainDelayMs;
    server.drain();
    server.logger.info({ signal, drainDelayMs: delay }, delay > 0 ? `shutting down: /health/ready answers 503; serving ${delay} ms more, then finishing requests in flight` : 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      dataDir.release();
      process.exit(1);
    }, delay + DRAIN_BOUND_MS);
    force.unref();
    const closed = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => {
      if (delay > 0) server.logger.info('draining: closing the listeners, finishing requests in flight');
      return server.close();
    });
    closed.then(
      () => {
        dataDir.release();
        server.logger.info('stopped');
        process.exit(0);
      },
      () => {
        dataDir.release();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let reloading = Promise.resolve();
  process.removeAllListeners('SIGHUP');
  process.on('SIGHUP', () => {
    if (stopping) return;
    reloading = reloading.then(() => reloadOnSignal(server, reread, server.logger));
  });
}

export function startCommand(): Command {
  return new Command('start')
    .description('run the token service, gateway and portal listeners (9443, 8243, 8280 plus the port offset)')
    .option('--port-offset <n>', 'add n to every port (like WSO2\'s Offset, without editing any file)')
    .option('--json', 'print one JSON object with the bound ports once listening (logs go to stderr)')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const config = configFrom(cmd);
        // With --json, stdout carries only that object; the logs go to stderr.
        const logger = createLogger(config.log.level, Boolean(opts.json));
        // Loaded only here: the server's modules cost seconds to import that other commands need not pay.
        const { startServer } = await import('../../server/start.js');
        // SIGHUP's default is to end the process: until the listeners are up there is nothing to reload.
        process.on('SIGHUP', () => logger.warn({ signal: 'SIGHUP' }, 'still starting: nothing to reload yet'));
        const dataDir = claim(config);
        for (const notice of dataDir.notices) logger.warn({ dataDir: config.dataDir }, notice);
        const server = await startServer(config, { logger }).catch((err: NodeJS.ErrnoException & { port?: number }) => {
          dataDir.release();
          if (err.code === 'EADDRINUSE') {
            throw new CliError(
              `port ${err.port ?? ''} is already in use: is another gatehouse (or other server) running? Stop it, or start with --port-offset N`.replace('port  is', 'a port is'),
            );
          }
          throw err;
        });
        if (server.ports.http !== null) {
          logger.warn(
            { listener: 'gateway-http', port: server.ports.http },
            `passwords over plain HTTP: /authorize's login form is also served on the plain-HTTP listener (port ${server.ports.http}); ` +
              'keep that port behind a TLS-terminating proxy, or set listeners.http: false',
          );
        }
        if (opts.json) emit(opts, { ports: server.ports, issuer: config.oauth.issuer, database: server.store.db.dialect }, '');
        handleSignals(server, dataDir, () => configFrom(cmd));
      }),
    );
}
