import { Command, Option } from 'commander';
import { ROLES, USERNAME_PATTERN, type Role } from '../../store/users.js';
import { withStore } from '../context.js';
import { CliError, emit, run } from '../output.js';

const MAX_PASSWORD_LENGTH = 1024;

/**
 * Reads the first line of standard input (without its line ending), so a password need not
 * appear in the process list or the shell history: `printf '%s\n' "$PW" | gatehouse user add …`.
 */
export async function readFirstLine(input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    const nl = text.indexOf('\n');
    if (nl >= 0) {
      text = text.slice(0, nl);
      break;
    }
    if (text.length > MAX_PASSWORD_LENGTH * 4) break;
  }
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

export function userCommand(): Command {
  const user = new Command('user').description('manage users (API Store subscribers, publishers, admins)');
  user
    .command('add')
    .description('create a user who can sign in and own applications (give exactly one of --password and --password-stdin)')
    .argument('<username>', 'letters, digits and . _ @ + - (at most 255)')
    .option('--password <password>', 'the password (stored only as an argon2id hash)')
    .option('--password-stdin', 'read the password from the first line of standard input instead (keeps it out of the process list and shell history)')
    .addOption(new Option('--role <role>', 'the user\'s role').choices(ROLES).default('subscriber'))
    .option('--json', 'print one JSON object')
    .action(async (username: string, opts: { password?: string; passwordStdin?: boolean; role: Role; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        if (!USERNAME_PATTERN.test(username)) throw new CliError(`invalid username "${username}": use letters, digits and . _ @ + - (at most 255)`);
        if ((opts.password === undefined) === (opts.passwordStdin !== true)) {
          throw new CliError('give exactly one of --password PW and --password-stdin');
        }
        const password = opts.password ?? (await readFirstLine());
        if (password.length === 0) throw new CliError('the password may not be empty');
        if (password.length > MAX_PASSWORD_LENGTH) throw new CliError(`the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
        const created = await withStore(cmd, (store) => store.users.create(username, password, opts.role));
        emit(opts, { username: created.username, role: created.role }, `user ${created.username} created (role ${created.role})`);
      }),
    );
  return user;
}
