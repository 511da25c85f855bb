import { Command, Option } from 'commander';
import { DEFAULT_APPLICATION_TIER, type ApplicationView, type Management, type Actor, type TokenView } from '../../manage/index.js';
import { collect, nextHint, pageOptions, withManagement } from '../manage.js';
import { emit, run } from '../output.js';

const appLine = (a: ApplicationView) => `${a.name}\t${a.owner}\t${a.tier}\t${a.callbackUrls.join(' ') || '-'}`;

/** The application a command names by owner and name. */
const named = (m: Management, actor: Actor, owner: string, name: string) => m.applications.byName(actor, owner, name);

/** The key type, checked by the service (any case, as in the API's path). */
const keyTypeOption = () => new Option('--type <type>', 'key type: PRODUCTION or SANDBOX').default('PRODUCTION');

export function appCommand(): Command {
  const app = new Command('app').description('manage applications and their consumer keys');
  const target = (c: Command) => c.argument('<name>', 'application name').requiredOption('--owner <username>', 'the user who owns the application');

  target(app.command('create').description('create an application owned by a user'))
    .option('--callback-url <url>', 'OAuth redirect URI (repeat for several)', collect, [])
    .option('--tier <tier>', `throttling tier of the application (all its calls, across APIs; default: ${DEFAULT_APPLICATION_TIER})`)
    .option('--description <text>', 'what the application is')
    .option('--origin <origin>', 'a browser origin allowed to call /token with CORS, e.g. https://app.example.com (repeatable)', collect, [])
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { owner: string; callbackUrl: string[]; tier?: string; description?: string; origin: string[]; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const created = await withManagement(cmd, (m, actor) =>
          m.applications.create(actor, {
            name,
            owner: opts.owner,
            ...(opts.tier !== undefined ? { tier: opts.tier } : {}),
            callbackUrls: opts.callbackUrl,
            allowedOrigins: opts.origin,
            description: opts.description ?? null,
          }),
        );
        emit(opts, created, `application ${created.name} created for ${created.owner} (tier ${created.tier})`);
      }),
    );

  app
    .command('list')
    .description('list applications (of one owner, or all)')
    .option('--owner <username>', 'only this user\'s applications')
    .option('--limit <n>', 'applications per page (default 50, at most 200)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'print one JSON object: {"items": [...], "next": cursor-or-null}')
    .action(async (opts: { owner?: string; limit?: string; cursor?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const page = await withManagement(cmd, (m, actor) => m.applications.list(actor, opts.owner === undefined ? {} : { owner: opts.owner }, pageOptions(opts)));
        emit(opts, page, (page.items.length === 0 ? 'no applications' : page.items.map(appLine).join('\n')) + nextHint(page.next));
      }),
    );

  target(app.command('show').description('show an application with its keys (never a secret)'))
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { owner: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const detail = await withManagement(cmd, async (m, actor) => m.applications.get(actor, (await named(m, actor, opts.owner, name)).id));
        const keys = detail.keys.map((k) => `  ${k.keyType}\t${k.consumerKey}${k.public ? '\tpublic client' : ''}${k.validitySeconds !== null ? `\tvalidity ${k.validitySeconds} s` : ''}`);
        emit(opts, detail, [appLine(detail), ...(keys.length ? keys : ['  no keys yet (gatehouse app keys)'])].join('\n'));
      }),
    );

  target(app.command('update').description('change an application\'s name, callback URLs, tier, description or CORS origins'))
    .option('--name <new-name>', 'a new name')
    .option('--callback-url <url>', 'replace the callback URLs (repeat for several)', collect)
    .option('--tier <tier>', 'a new throttling tier')
    .option('--description <text>', 'a new description ("" removes it)')
    .option('--origin <origin>', 'replace the CORS origins (repeatable)', collect)
    .option('--no-origins', 'remove every CORS origin')
    .option('--resource-server', 'let the application introspect every token (a resource server)')
    .option('--no-resource-server', 'introspect only its own tokens (the default)')
    .option('--json', 'print one JSON object')
    .action(
      async (
        name: string,
        opts: { owner: string; name?: string; callbackUrl?: string[]; tier?: string; description?: string; origin?: string[]; origins?: boolean; resourceServer?: boolean; json?: boolean },
        cmd: Command,
      ) =>
        run(opts, async () => {
          const updated = await withManagement(cmd, async (m, actor) =>
            m.applications.update(actor, (await named(m, actor, opts.owner, name)).id, {
              ...(opts.name !== undefined ? { name: opts.name } : {}),
              ...(opts.callbackUrl !== undefined ? { callbackUrls: opts.callbackUrl } : {}),
              ...(opts.tier !== undefined ? { tier: opts.tier } : {}),
              ...(opts.description !== undefined ? { description: opts.description } : {}),
              ...(opts.origin !== undefined ? { allowedOrigins: opts.origin } : opts.origins === false ? { allowedOrigins: [] } : {}),
              ...(opts.resourceServer !== undefined ? { introspectAll: opts.resourceServer } : {}),
            }),
          );
          emit(opts, updated, `application ${updated.name} of ${updated.owner} updated`);
        }),
    );

  target(app.command('delete').description('delete an application with its keys and subscriptions; its tokens stop working at once'))
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { owner: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withManagement(cmd, async (m, actor) => m.applications.remove(actor, (await named(m, actor, opts.owner, name)).id));
        emit(opts, { name, owner: opts.owner, deleted: true }, `application ${name} of ${opts.owner} deleted`);
      }),
    );

  target(app.command('keys').description('generate (or show) the consumer key and secret of an application, like the Store\'s "Generate" button'))
    .addOption(keyTypeOption())
    .option('--regenerate', 'replace the consumer secret of a key already generated with a new one (running nodes stop accepting the old one within a second); a public client has none')
    .option('--validity <seconds>', 'lifetime of application (client_credentials) tokens issued with this key')
    .option('--public', 'generate the key as a public client (no secret), e.g. a mobile or single-page app using PKCE; only when the key is first generated')
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { owner: string; type: string; regenerate?: boolean; validity?: string; public?: boolean; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        // The fields as the API names them (generateKeys, getKeys, updateKeys); `public` only for the human line.
        type Shown = { consumerKey: string; consumerSecret?: string; keyType: string; validitySeconds: number | null; previousValiditySeconds?: number | null; public: boolean };
        const shown = await withManagement(cmd, async (m, actor): Promise<Shown> => {
          const app = await named(m, actor, opts.owner, name);
          const existing = await m.keys.get(actor, app.id, opts.type).catch((err: unknown) => {
            if ((err as { kind?: string }).kind === 'not_found') return undefined;
            throw err;
          });
          if (existing === undefined) {
            // a secret of no key: refused as regenerateSecret refuses it (404), not generated
            if (opts.regenerate) return { ...(await m.keys.regenerateSecret(actor, app.id, opts.type)), validitySeconds: null, public: false };
            const issued = await m.keys.generate(actor, app.id, opts.type, { ...(opts.validity !== undefined ? { validitySeconds: opts.validity } : {}), public: Boolean(opts.public) });
            const validitySeconds = opts.validity === undefined ? null : (await m.keys.get(actor, app.id, opts.type)).validitySeconds;
            return { ...issued, validitySeconds, public: Boolean(opts.public) };
          }
          if (opts.public && !existing.public) await m.keys.generate(actor, app.id, opts.type, { public: true }); // refused, saying why
          // the service reads the text and records nothing when the lifetime stays the same
          const set = opts.validity !== undefined ? await m.keys.setValidity(actor, app.id, opts.type, opts.validity) : undefined;
          const changed = set !== undefined && set.validitySeconds !== set.previousValiditySeconds ? set : undefined;
          const issued = opts.regenerate ? await m.keys.regenerateSecret(actor, app.id, opts.type) : { consumerKey: existing.consumerKey, keyType: existing.keyType };
          return {
            ...issued,
            validitySeconds: changed?.validitySeconds ?? existing.validitySeconds,
            ...(changed !== undefined ? { previousValiditySeconds: changed.previousValiditySeconds } : {}),
            public: existing.public,
          };
        });
        const result: Record<string, unknown> = { consumerKey: shown.consumerKey };
        if (shown.consumerSecret !== undefined) result.consumerSecret = shown.consumerSecret;
        result.keyType = shown.keyType;
        if (shown.validitySeconds !== null) result.validitySeconds = shown.validitySeconds;
        if (shown.previousValiditySeconds !== undefined) result.previousValiditySeconds = shown.previousValiditySeconds;
        const human = [
          `consumer key:    ${shown.consumerKey}`,
          shown.consumerSecret !== undefined
            ? `consumer secret: ${shown.consumerSecret}   (shown only now; keep it safe)`
            : shown.public
              ? 'consumer secret: none (public client)'
              : 'consumer secret: (not shown again; use --regenerate for a new one)',
          `key type:        ${shown.keyType}`,
          ...(shown.previousValiditySeconds !== undefined
            ? [`validity:        changed from ${shown.previousValiditySeconds === null ? 'the default (oauth.accessTokenValidity)' : `${shown.previousValiditySeconds} s`} to ${shown.validitySeconds} s for tokens issued from now on`]
            : shown.validitySeconds !== null
              ? [`validity:        ${shown.validitySeconds} s`]
              : []),
        ].join('\n');
        emit(opts, result, human);
      }),
    );

  target(app.command('revoke-tokens').description('revoke every token issued with the application\'s key (of one type, or both)'))
    .option('--type <type>', 'key type: PRODUCTION or SANDBOX (default: both)')
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { owner: string; type?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const results = await withManagement(cmd, async (m, actor) => {
          const id = (await named(m, actor, opts.owner, name)).id;
          return opts.type !== undefined ? [await m.keys.revokeTokens(actor, id, opts.type)] : m.keys.revokeAllTokens(actor, id);
        });
        emit(opts, { application: name, owner: opts.owner, revoked: results }, results.map((r) => `${r.keyType}: ${r.revokedGrants} grant(s) revoked`).join('\n'));
      }),
    );

  target(app.command('tokens').description("list the application's live access tokens (metadata only; an id is the token's lookup key, not a token: its issue time in 10 hex digits, then its base64url SHA-256, 53 characters)"))
    .option('--limit <n>', 'tokens per page (default 50, at most 200)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'print one JSON object: {"items": [...], "next": cursor-or-null}')
    .action(async (name: string, opts: { owner: string; limit?: string; cursor?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const page = await withManagement(cmd, async (m, actor) => m.tokens.list(actor, (await named(m, actor, opts.owner, name)).id, pageOptions(opts)));
        const line = (t: TokenView) => `${t.id}\t${t.keyType}\t${t.grantType}\t${t.username ?? t.subject}\texpires ${t.expiresAt}`;
        emit(opts, page, (page.items.length === 0 ? 'no live tokens' : page.items.map(line).join('\n')) + nextHint(page.next));
      }),
    );

  target(app.command('revoke-token').description('revoke one live token (and its refresh token) by the id `app tokens` shows'))
    .requiredOption('--id <tokenId>', 'the token id')
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { owner: string; id: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withManagement(cmd, async (m, actor) => m.tokens.revoke(actor, (await named(m, actor, opts.owner, name)).id, opts.id));
        emit(opts, { id: opts.id, revoked: true }, `token ${opts.id} revoked`);
      }),
    );
  return app;
}
