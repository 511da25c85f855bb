import { Command, Option } from 'commander';
import { ROLES, USERNAME_PATTERN, type Role } from '../../store/users.js';
import { withStore } from '../context.js';
import { CliError, emit, run } from '../output.js';

export function userCommand(): Command {
  const user = new Command('user').description('manage users (API Store subscribers, publishers, admins)');
  user
    .command('add')
    .description('create a user who can sign in and own applications')
    .argument('<username>', 'letters, digits and . _ @ + - (at most 255)')
    .requiredOption('--password <password>', 'the password (stored only as an argon2id hash)')
    .addOption(new Option('--role <role>', 'the user\'s role').choices(ROLES).default('subscriber'))
    .option('--json', 'print one JSON object')
    .action(async (username: string, opts: { password: string; role: Role; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        if (!USERNAME_PATTERN.test(username)) throw new CliError(`invalid username "${username}": use letters, digits and . _ @ + - (at most 255)`);
        if (opts.password.length === 0) throw new CliError('the password may not be empty');
        if (opts.password.length > 1024) throw new CliError('the password is longer than 1024 characters');
        const created = await withStore(cmd, (store) => store.users.create(username, opts.password, opts.role));
        emit(opts, { username: created.username, role: created.role }, `user ${created.username} created (role ${created.role})`);
      }),
    );
  return user;
}
