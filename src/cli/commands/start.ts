import { Command } from 'commander';
import { createLogger } from '../../log.js';
import { configFrom } from '../context.js';
import { CliError, emit, run } from '../output.js';

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
        const server = await startServer(config, { logger }).catch((err: NodeJS.ErrnoException & { port?: number }) => {
          if (err.code === 'EADDRINUSE') {
            throw new CliError(
              `port ${err.port ?? ''} is already in use: is another gatehouse (or other server) running? Stop it, or start with --port-offset N`.replace('port  is', 'a port is'),
            );
          }
          throw err;
        });
        if (opts.json) emit(opts, { ports: server.ports, issuer: config.oauth.issuer, database: server.store.db.dialect }, '');
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          server.logger.info({ signal }, 'shutting down: finishing requests in flight');
          const force = setTimeout(() => process.exit(1), 15_000);
          force.unref();
          server.close().then(
            () => {
              server.logger.info('stopped');
              process.exit(0);
            },
            () => process.exit(1),
          );
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      }),
    );
}
