import { Command } from 'commander';
import type { Actor, ApiView, Management, SubscriptionView } from '../../manage/index.js';
import { nextHint, pageOptions, withManagement } from '../manage.js';
import { CliError, emit, run } from '../output.js';
import { MAX_CONTEXT_SEGMENTS } from '../../types.js';

export function parseApiRef(raw: string): { name: string; version: string } {
  const i = raw.lastIndexOf(':');
  if (i <= 0 || i === raw.length - 1) throw new CliError(`invalid API "${raw}": write NAME:VERSION, e.g. WeatherAPI:v1`);
  return { name: raw.slice(0, i), version: raw.slice(i + 1) };
}

const apiRef = (m: Management, actor: Actor, raw: string) => {
  const { name, version } = parseApiRef(raw);
  return m.apis.byRef(actor, name, version);
};

const tierList = (raw: string): string[] => raw.split(',').map((t) => t.trim()).filter(Boolean);

const apiLine = (a: ApiView) => `${a.name}:${a.version}\t${a.context}/${a.version}\t${a.status}\t${a.tiers.join(',')}`;

export function apiCommand(): Command {
  const api = new Command('api').description('publish APIs on the gateway (the Publisher)');

  api
    .command('create')
    .description('create an API served at /{context}/{version}/… on the gateway listeners')
    .requiredOption('--name <name>', 'API name')
    .requiredOption('--context <context>', `URL context, e.g. /weather (1 to ${MAX_CONTEXT_SEGMENTS} path segments)`)
    .requiredOption('--version <version>', 'API version, e.g. v1')
    .requiredOption('--production-url <url>', 'backend for PRODUCTION keys')
    .option('--sandbox-url <url>', 'backend for SANDBOX keys')
    .option('--tiers <list>', 'comma-separated tiers subscribers may choose (default: every configured tier)')
    .option('--timeout <ms>', 'backend timeout in milliseconds (default gateway.backendTimeoutMs)')
    .option('--jwt', 'pass the backend an X-JWT-Assertion describing the caller')
    .option('--description <text>', 'what the API does (shown in the Store)')
    .option('--publish', 'publish at once')
    .option('--json', 'print one JSON object')
    .action(
      async (
        opts: { name: string; context: string; version: string; productionUrl: string; sandboxUrl?: string; tiers?: string; timeout?: string; jwt?: boolean; description?: string; publish?: boolean; json?: boolean },
        cmd: Command,
      ) =>
        run(opts, async () => {
          const created = await withManagement(cmd, async (m, actor) => {
            const a = await m.apis.create(actor, {
              name: opts.name,
              context: opts.context,
              version: opts.version,
              productionUrl: opts.productionUrl,
              ...(opts.sandboxUrl !== undefined ? { sandboxUrl: opts.sandboxUrl } : {}),
              ...(opts.tiers !== undefined ? { tiers: tierList(opts.tiers) } : {}),
              ...(opts.timeout !== undefined && opts.timeout !== '' ? { timeoutMs: opts.timeout } : {}),
              jwt: Boolean(opts.jwt),
              description: opts.description ?? null,
            });
            return opts.publish ? m.apis.publish(actor, a.id) : a;
          });
          emit(opts, created, `API ${created.name}:${created.version} created at ${created.context}/${created.version} (${created.status})`);
        }),
    );

  api
    .command('update')
    .description('change an API: backends, tiers, timeout, JWT switch, description')
    .argument('<api>', 'NAME:VERSION')
    .option('--production-url <url>', 'backend for PRODUCTION keys')
    .option('--sandbox-url <url>', 'backend for SANDBOX keys ("" removes it)')
    .option('--tiers <list>', 'comma-separated tiers')
    .option('--timeout <ms>', 'backend timeout in milliseconds ("default" or "" for gateway.backendTimeoutMs)')
    .option('--jwt', 'pass the backend an X-JWT-Assertion')
    .option('--no-jwt', 'stop passing an X-JWT-Assertion')
    .option('--description <text>', 'a new description ("" removes it)')
    .option('--json', 'print one JSON object')
    .action(
      async (
        ref: string,
        opts: { productionUrl?: string; sandboxUrl?: string; tiers?: string; timeout?: string; jwt?: boolean; description?: string; json?: boolean },
        cmd: Command,
      ) =>
        run(opts, async () => {
          const updated = await withManagement(cmd, async (m, actor) =>
            m.apis.update(actor, (await apiRef(m, actor, ref)).id, {
              ...(opts.productionUrl !== undefined ? { productionUrl: opts.productionUrl } : {}),
              ...(opts.sandboxUrl !== undefined ? { sandboxUrl: opts.sandboxUrl === '' ? null : opts.sandboxUrl } : {}),
              ...(opts.tiers !== undefined ? { tiers: tierList(opts.tiers) } : {}),
              // "default" or "" (as the portal's empty field): the gateway's default
              ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout === 'default' || opts.timeout === '' ? null : opts.timeout } : {}),
              ...(opts.jwt !== undefined ? { jwt: opts.jwt } : {}),
              ...(opts.description !== undefined ? { description: opts.description } : {}),
            }),
          );
          emit(opts, updated, `API ${updated.name}:${updated.version} updated`);
        }),
    );

  for (const [verb, what] of [
    ['publish', 'make the API callable on the gateway'],
    ['retire', 'stop serving the API (calls get 404)'],
  ] as const) {
    api
      .command(verb)
      .description(what)
      .argument('<api>', 'NAME:VERSION')
      .option('--json', 'print one JSON object')
      .action(async (ref: string, opts: { json?: boolean }, cmd: Command) =>
        run(opts, async () => {
          const updated = await withManagement(cmd, async (m, actor) => {
            const a = await apiRef(m, actor, ref);
            return verb === 'publish' ? m.apis.publish(actor, a.id) : m.apis.retire(actor, a.id);
          });
          emit(opts, updated, `API ${updated.name}:${updated.version} is ${updated.status}`);
        }),
      );
  }

  api
    .command('list')
    .description('list APIs')
    .option('--limit <n>', 'APIs per page (default 50, at most 200)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'print one JSON object: {"items": [...], "next": cursor-or-null}')
    .action(async (opts: { limit?: string; cursor?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const page = await withManagement(cmd, (m, actor) => m.apis.list(actor, pageOptions(opts)));
        emit(opts, page, (page.items.length === 0 ? 'no APIs' : page.items.map(apiLine).join('\n')) + nextHint(page.next));
      }),
    );

  api
    .command('show')
    .description('show an API')
    .argument('<api>', 'NAME:VERSION')
    .option('--json', 'print one JSON object')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const a = await withManagement(cmd, (m, actor) => apiRef(m, actor, ref));
        emit(opts, a, [apiLine(a), `production ${a.productionUrl}`, `sandbox    ${a.sandboxUrl ?? '-'}`, `timeout    ${a.timeoutMs ?? 'default'}${a.jwt ? '\nX-JWT-Assertion to the backend' : ''}`].join('\n'));
      }),
    );

  api
    .command('delete')
    .description('delete an API that nothing subscribes to')
    .argument('<api>', 'NAME:VERSION')
    .option('--json', 'print one JSON object')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withManagement(cmd, async (m, actor) => m.apis.remove(actor, (await apiRef(m, actor, ref)).id));
        emit(opts, { api: ref, deleted: true }, `API ${ref} deleted`);
      }),
    );
  return api;
}

/** The application and API a subscription command names. */
async function target(m: Management, actor: Actor, opts: { owner: string; app: string; api: string }) {
  const application = await m.applications.byName(actor, opts.owner, opts.app);
  const api = await apiRef(m, actor, opts.api);
  return { application, api };
}

const subLine = (s: SubscriptionView) => `${s.owner}/${s.applicationName}\t${s.apiName}:${s.apiVersion}\t${s.tier}\t${s.status}`;

export function subscriptionCommands(): Command[] {
  const targeted = (c: Command) =>
    c
      .requiredOption('--owner <username>', 'owner of the application')
      .requiredOption('--app <name>', 'application name')
      .requiredOption('--api <api>', 'NAME:VERSION')
      .option('--json', 'print one JSON object');

  const subscribe = targeted(new Command('subscribe').description('subscribe an application to an API version'))
    .option('--tier <tier>', 'a tier the API offers (default: its first)')
    .action(async (opts: { owner: string; app: string; api: string; tier?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const sub = await withManagement(cmd, async (m, actor) => {
          const { application, api } = await target(m, actor, opts);
          return m.subscriptions.create(actor, { applicationId: application.id, apiId: api.id, ...(opts.tier !== undefined ? { tier: opts.tier } : {}) });
        });
        emit(opts, sub, `${sub.applicationName} subscribed to ${sub.apiName}:${sub.apiVersion} (tier ${sub.tier})`);
      }),
    );

  const unsubscribe = targeted(new Command('unsubscribe').description("remove an application's subscription")).action(
    async (opts: { owner: string; app: string; api: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withManagement(cmd, async (m, actor) => {
          const { application, api } = await target(m, actor, opts);
          await m.subscriptions.remove(actor, (await m.subscriptions.between(actor, application.id, api.id)).id);
        });
        emit(opts, { application: opts.app, owner: opts.owner, api: opts.api, unsubscribed: true }, `${opts.app} unsubscribed from ${opts.api}`);
      }),
  );

  const subscription = new Command('subscription').description('list, block or unblock subscriptions');
  subscription
    .command('list')
    .description('list subscriptions: of one application (--owner and --app), of one API (--api), or all')
    .option('--owner <username>', 'owner of the application')
    .option('--app <name>', 'application name')
    .option('--api <api>', 'NAME:VERSION')
    .option('--limit <n>', 'subscriptions per page (default 50, at most 200)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'print one JSON object: {"items": [...], "next": cursor-or-null}')
    .action(async (opts: { owner?: string; app?: string; api?: string; limit?: string; cursor?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        if ((opts.owner === undefined) !== (opts.app === undefined)) throw new CliError('give --owner and --app together');
        const page = await withManagement(cmd, async (m, actor) => {
          const filter: { applicationId?: string; apiId?: string } = {};
          if (opts.owner !== undefined && opts.app !== undefined) filter.applicationId = (await m.applications.byName(actor, opts.owner, opts.app)).id;
          if (opts.api !== undefined) filter.apiId = (await apiRef(m, actor, opts.api)).id;
          return m.subscriptions.list(actor, filter, pageOptions(opts));
        });
        emit(opts, page, (page.items.length === 0 ? 'no subscriptions' : page.items.map(subLine).join('\n')) + nextHint(page.next));
      }),
    );
  for (const verb of ['block', 'unblock'] as const) {
    subscription.addCommand(
      targeted(new Command(verb).description(`${verb} an application's calls to an API`)).action(
        async (opts: { owner: string; app: string; api: string; json?: boolean }, cmd: Command) =>
          run(opts, async () => {
            const sub = await withManagement(cmd, async (m, actor) => {
              const { application, api } = await target(m, actor, opts);
              const id = (await m.subscriptions.between(actor, application.id, api.id)).id;
              return verb === 'block' ? m.subscriptions.block(actor, id) : m.subscriptions.unblock(actor, id);
            });
            emit(opts, sub, `subscription of ${opts.app} to ${opts.api} is ${sub.status}`);
          }),
      ),
    );
  }
  return [subscribe, unsubscribe, subscription];
}
