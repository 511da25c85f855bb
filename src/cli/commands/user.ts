import { Command } from 'commander';
import { DEFAULT_ROLE, type UserView } from '../../manage/index.js';
import { ROLES } from '../../store/users.js';
import { nextHint, pageOptions, withManagement } from '../manage.js';
import { CliError, emit, run } from '../output.js';

/** Longest stdin line read for a password (the service refuses anything over 1024 characters). */
const MAX_STDIN = 4096;

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
    if (text.length > MAX_STDIN) break;
  }
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/** The password of `--password PW` or `--password-stdin`: exactly one of them. */
async function passwordFrom(opts: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if ((opts.password === undefined) === (opts.passwordStdin !== true)) throw new CliError('give exactly one of --password PW and --password-stdin');
  return opts.password ?? (await readFirstLine());
}

const passwordOptions = (c: Command) =>
  c
    .option('--password <password>', 'the password (at least 8 characters; stored only as an argon2id hash)')
    .option('--password-stdin', 'read the password from the first line of standard input instead (keeps it out of the process list and shell history)');

const line = (u: UserView) => `${u.username}\t${u.role}${u.locked ? '\tlocked' : ''}`;

export function userCommand(): Command {
  const user = new Command('user').description('manage users (API Store subscribers, publishers, admins)');
  passwordOptions(
    user
      .command('add')
      .description('create a user who can sign in and own applications (give exactly one of --password and --password-stdin)')
      .argument('<username>', 'letters, digits and . _ @ + - (at most 255)'),
  )
    // the allowed values in the help; the service checks the value (as for set-role and the API)
    .option('--role <role>', `the user's role: ${ROLES.join(', ')} (default: ${DEFAULT_ROLE})`)
    .option('--json', 'print one JSON object')
    .action(async (username: string, opts: { password?: string; passwordStdin?: boolean; role?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const password = await passwordFrom(opts);
        const created = await withManagement(cmd, (m, actor) => m.users.create(actor, { username, password, ...(opts.role !== undefined ? { role: opts.role } : {}) }));
        emit(opts, created, `user ${created.username} created (role ${created.role})`);
      }),
    );

  user
    .command('list')
    .description('list users, by username')
    .option('--limit <n>', 'users per page (default 50, at most 200)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'print one JSON object: {"items": [...], "next": cursor-or-null}')
    .action(async (opts: { limit?: string; cursor?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const page = await withManagement(cmd, (m, actor) => m.users.list(actor, pageOptions(opts)));
        emit(opts, page, (page.items.length === 0 ? 'no users' : page.items.map(line).join('\n')) + nextHint(page.next));
      }),
    );

  user
    .command('show')
    .description('show one user')
    .argument('<username>')
    .option('--json', 'print one JSON object')
    .action(async (username: string, opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const u = await withManagement(cmd, (m, actor) => m.users.show(actor, username));
        emit(opts, u, `${line(u)}\tsince ${u.createdAt}`);
      }),
    );

  user
    .command('set-role')
    .description("change a user's role")
    .argument('<username>')
    .argument('<role>', ROLES.join(', '))
    .option('--json', 'print one JSON object')
    .action(async (username: string, role: string, opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const u = await withManagement(cmd, (m, actor) => m.users.update(actor, username, { role }));
        emit(opts, u, `user ${u.username} is now a ${u.role}`);
      }),
    );

  for (const [verb, locked, what] of [
    ['lock', true, 'lock an account: it can no longer sign in or refresh, and every token it authorized is revoked at once'],
    ['unlock', false, 'unlock an account'],
  ] as const) {
    user
      .command(verb)
      .description(what)
      .argument('<username>')
      .option('--json', 'print one JSON object')
      .action(async (username: string, opts: { json?: boolean }, cmd: Command) =>
        run(opts, async () => {
          const u = await withManagement(cmd, (m, actor) => m.users.update(actor, username, { locked }));
          emit(opts, u, `user ${u.username} is ${u.locked ? 'locked' : 'unlocked'}`);
        }),
      );
  }

  passwordOptions(
    user
      .command('passwd')
      .description("set a user's password (their tokens are revoked: sign in again)")
      .argument('<username>'),
  )
    .option('--json', 'print one JSON object')
    .action(async (username: string, opts: { password?: string; passwordStdin?: boolean; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const password = await passwordFrom(opts);
        const u = await withManagement(cmd, (m, actor) => m.users.update(actor, username, { password }));
        emit(opts, u, `password of ${u.username} changed`);
      }),
    );

  user
    .command('remove')
    .description('remove a user with their applications, keys, subscriptions and tokens')
    .argument('<username>')
    .option('--json', 'print one JSON object')
    .action(async (username: string, opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withManagement(cmd, (m, actor) => m.users.remove(actor, username));
        emit(opts, { username, removed: true }, `user ${username} removed`);
      }),
    );
  return user;
}
