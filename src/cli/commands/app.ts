import { Command, Option } from 'commander';
import { KEY_TYPES } from '../../types.js';
import { NotFound } from '../../errors.js';
import type { KeyType } from '../../types.js';
import { withStore } from '../context.js';
import { CliError, emit, run } from '../output.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * A redirect URI an OAuth client may register: absolute, no fragment (RFC 6749 §3.1.2), and
 * exactly as it will be compared and sent back in a Location header: ASCII only (an IDN host
 * in punycode, other characters percent-encoded), no spaces around it, no control characters.
 */
export function validateCallbackUrl(raw: string): string {
  if (raw.trim() !== raw) throw new CliError(`invalid callback URL "${raw}": remove the spaces around it`);
  if (/[^\x21-\x7e]/.test(raw)) {
    const suggestion = URL.canParse(raw) ? ` such as ${new URL(raw).href}` : '';
    throw new CliError(
      `invalid callback URL "${raw.replace(/[\x00-\x1f\x7f]/g, '?')}": only ASCII without spaces or control characters; ` +
        `give the host in punycode and percent-encode the rest${suggestion}`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`invalid callback URL "${raw}": it must be an absolute URL such as https://app.example.com/callback`);
  }
  if (raw.includes('#')) throw new CliError(`invalid callback URL "${raw}": it may not contain a fragment (#)`);
  if (url.protocol === 'javascript:' || url.protocol === 'data:' || url.protocol === 'file:') {
    throw new CliError(`invalid callback URL "${raw}": the ${url.protocol} scheme is not allowed`);
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname) throw new CliError(`invalid callback URL "${raw}": no host`);
  return raw;
}

const NAME_PATTERN = /^[^\x00-\x1f\x7f]{1,100}$/;

export function appCommand(): Command {
  const app = new Command('app').description('manage applications and their consumer keys');

  app
    .command('create')
    .description('create an application owned by a user')
    .argument('<name>', 'application name, unique per owner')
    .requiredOption('--owner <username>', 'the user who owns the application')
    .option('--callback-url <url>', 'OAuth redirect URI (repeat for several)', collect, [])
    .option('--tier <tier>', 'throttling tier of the application', 'Unlimited')
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { owner: string; callbackUrl: string[]; tier: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        if (!NAME_PATTERN.test(name) || name.trim() !== name) throw new CliError(`invalid application name "${name}": 1 to 100 printable characters, no leading or trailing space`);
        const callbackUrls = opts.callbackUrl.map(validateCallbackUrl);
        await withStore(cmd, async (store, config) => {
          if (!(opts.tier in config.throttling.tiers)) {
            throw new CliError(`unknown tier "${opts.tier}": configured tiers are ${Object.keys(config.throttling.tiers).join(', ')}`);
          }
          const created = await store.applications.create({ ownerUsername: opts.owner, name, tier: opts.tier, callbackUrls });
          emit(
            opts,
            { name: created.name, owner: created.ownerUsername, tier: created.tier, callbackUrls: created.callbackUrls },
            `application ${created.name} created for ${created.ownerUsername} (tier ${created.tier})`,
          );
        });
      }),
    );

  app
    .command('keys')
    .description('generate (or show) the consumer key and secret of an application, like the Store\'s "Generate" button')
    .argument('<name>', 'application name')
    .requiredOption('--owner <username>', 'the user who owns the application')
    .addOption(new Option('--type <type>', 'key type').choices(['PRODUCTION', 'SANDBOX', 'production', 'sandbox']).default('PRODUCTION'))
    .option('--regenerate', 'replace the consumer secret with a new one (running nodes stop accepting the old one within oauth.clientCacheTtl seconds)')
    .option('--validity <seconds>', 'lifetime of application (client_credentials) tokens issued with this key')
    .option('--public', 'generate the key as a public client (no secret), e.g. a mobile or single-page app using PKCE; only when the key is first generated')
    .option('--json', 'print one JSON object')
    .action(
      async (
        name: string,
        opts: { owner: string; type: string; regenerate?: boolean; validity?: string; public?: boolean; json?: boolean },
        cmd: Command,
      ) =>
        run(opts, async () => {
          const keyType = opts.type.toUpperCase() as KeyType;
          let validitySeconds: number | undefined;
          if (opts.validity !== undefined) {
            validitySeconds = Number(opts.validity);
            if (!Number.isInteger(validitySeconds) || validitySeconds < 1 || validitySeconds > 10 * 365 * 86400) {
              throw new CliError(`invalid --validity "${opts.validity}": a whole number of seconds from 1 to 315360000`);
            }
          }
          if (!KEY_TYPES.includes(keyType)) throw new CliError(`invalid --type "${opts.type}"`);
          if (opts.regenerate && opts.public) throw new CliError('--regenerate and --public do not go together: a public client has no secret to regenerate');
          await withStore(cmd, async (store) => {
            const application = await store.applications.find(opts.owner, name);
            if (!application) {
              if (!(await store.users.findByUsername(opts.owner))) throw new NotFound(`no user "${opts.owner}"`);
              throw new NotFound(`user "${opts.owner}" has no application named "${name}"`);
            }
            const keys = await store.applications.ensureKeys(application.id, keyType, {
              regenerate: opts.regenerate,
              validitySeconds,
              publicClient: opts.public,
            });
            const result: Record<string, unknown> = { consumerKey: keys.consumerKey };
            if (keys.consumerSecret !== undefined) result.consumerSecret = keys.consumerSecret;
            result.keyType = keys.keyType;
            if (keys.validitySeconds !== null) result.validity = keys.validitySeconds;
            const human = [
              `consumer key:    ${keys.consumerKey}`,
              keys.consumerSecret !== undefined
                ? `consumer secret: ${keys.consumerSecret}   (shown only now; keep it safe)`
                : opts.public && keys.created
                  ? 'consumer secret: none (public client)'
                  : 'consumer secret: (not shown again; use --regenerate for a new one)',
              `key type:        ${keys.keyType}`,
            ].join('\n');
            emit(opts, result, human);
          });
        }),
    );
  return app;
}
