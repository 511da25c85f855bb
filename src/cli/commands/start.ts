import { Command } from 'commander';
import { startServer } from '../../server/start.js';
import { configFrom } from '../context.js';
import { emit, run } from '../output.js';

export function startCommand(): Command {
  return new Command('start')
    .description('run the token service, gateway and portal listeners (9443, 8243, 8280 plus the port offset)')
    .option('--port-offset <n>', 'add n to every port (like WSO2\'s Offset, without editing any file)')
    .option('--json', 'print one JSON object with the bound ports once listening')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const config = configFrom(cmd);
        const server = await startServer(config);
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
