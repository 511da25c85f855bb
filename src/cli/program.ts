import { Command } from 'commander';
import { apiCommand, subscriptionCommands } from './commands/api.js';
import { appCommand } from './commands/app.js';
import { auditCommand } from './commands/audit.js';
import { idpCommand } from './commands/idp.js';
import { keysCommand } from './commands/keys.js';
import { tierCommand } from './commands/tier.js';
import { startCommand } from './commands/start.js';
import { userCommand } from './commands/user.js';
import { usageErrors } from './output.js';

/** The whole `gatehouse` command tree (main.ts parses argv with it; tests read its help). */
export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: OAuth 2.0 token service and API gateway')
    .option('--config <file>', 'YAML configuration file (or GATEHOUSE_CONFIG)')
    .option('--data-dir <dir>', 'data directory for SQLite, TLS material (or GATEHOUSE_DATA_DIR; default ./data)')
    .showHelpAfterError();

  program.addCommand(startCommand());
  program.addCommand(userCommand());
  program.addCommand(appCommand());
  program.addCommand(apiCommand());
  for (const c of subscriptionCommands()) program.addCommand(c);
  program.addCommand(idpCommand());
  program.addCommand(auditCommand());
  program.addCommand(keysCommand());
  program.addCommand(tierCommand());

  // --config and --data-dir belong to every command: show them in every command's --help.
  const showGlobals = (cmd: Command): void => {
    cmd.configureHelp({ showGlobalOptions: true });
    for (const sub of cmd.commands) showGlobals(sub);
  };
  showGlobals(program);
  usageErrors(program);
  return program;
}
