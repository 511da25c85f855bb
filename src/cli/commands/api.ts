import { Command } from 'commander';
import type { Api } from '../../store/apis.js';
import { NotFound } from '../../errors.js';
import type { Store } from '../../store/index.js';
import { withStore } from '../context.js';
import { CliError, emit, run } from '../output.js';

/** Paths the node itself answers on; an API context may not shadow them. */
const RESERVED = ['/token', '/login', '/revoke', '/introspect', '/authorize', '/.well-known', '/health', '/metrics', '/jwks'];
const CONTEXT = /^(\/[A-Za-z0-9._~-]+)+$/;
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

export function validateContext(raw: string): string {
  const ctx = raw.startsWith('/') ? raw : `/${raw}`;
  if (!CONTEXT.test(ctx) || ctx.length > 255) throw new CliError(`invalid context "${raw}": use path segments like /weather or /partners/weather`);
  const first = `/${ctx.split('/')[1]}`;
  if (RESERVED.includes(first) || RESERVED.includes(ctx)) throw new CliError(`context "${ctx}" is reserved for the node's own endpoints (${RESERVED.join(', ')})`);
  return ctx;
}

export function validateBackendUrl(flag: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`invalid ${flag} "${raw}": an absolute http(s) URL such as http://backend.internal:8080/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`invalid ${flag} "${raw}": only http and https backends`);
  if (url.search || url.hash) throw new CliError(`invalid ${flag} "${raw}": no query string or fragment`);
  if (url.username || url.password) throw new CliError(`invalid ${flag} "${raw}": no credentials in the URL`);
  return raw.replace(/\/+$/, '');
}

export function parseApiRef(raw: string): { name: string; version: string } {
  const i = raw.lastIndexOf(':');
  if (i <= 0 || i === raw.length - 1) throw new CliError(`invalid API "${raw}": write NAME:VERSION, e.g. WeatherAPI:v1`);
  return { name: raw.slice(0, i), version: raw.slice(i + 1) };
}

const describeApi = (a: Api) => ({
  name: a.name,
  context: a.context,
  version: a.version,
  status: a.status,
  productionUrl: a.productionUrl,
  ...(a.sandboxUrl ? { sandboxUrl: a.sandboxUrl } : {}),
  tiers: a.tiers,
  ...(a.timeoutMs ? { timeoutMs: a.timeoutMs } : {}),
  sendJwt: a.sendJwt,
});

export function apiCommand(): Command {
  const api = new Command('api').description('publish APIs on the gateway (the Publisher)');

  api
    .command('create')
    .description('create an API served at /{context}/{version}/… on the gateway listeners')
    .requiredOption('--name <name>', 'API name')
    .requiredOption('--context <context>', 'URL context, e.g. /weather')
    .requiredOption('--version <version>', 'API version, e.g. v1')
    .requiredOption('--production-url <url>', 'backend for PRODUCTION keys')
    .option('--sandbox-url <url>', 'backend for SANDBOX keys')
    .option('--tiers <list>', 'comma-separated tiers subscribers may choose', 'Gold,Silver,Bronze,Unlimited')
    .option('--timeout <ms>', 'backend timeout in milliseconds (default gateway.backendTimeoutMs)')
    .option('--jwt', 'pass the backend an X-JWT-Assertion describing the caller')
    .option('--publish', 'publish at once')
    .option('--json', 'print one JSON object')
    .action(
      async (
        opts: { name: string; context: string; version: string; productionUrl: string; sandboxUrl?: string; tiers: string; timeout?: string; jwt?: boolean; publish?: boolean; json?: boolean },
        cmd: Command,
      ) =>
        run(opts, async () => {
          if (!/^[^\x00-\x1f\x7f:]{1,100}$/.test(opts.name)) throw new CliError(`invalid API name "${opts.name}": 1 to 100 printable characters, no colon`);
          const context = validateContext(opts.context);
          if (!VERSION.test(opts.version)) throw new CliError(`invalid version "${opts.version}": letters, digits, . _ -`);
          const productionUrl = validateBackendUrl('--production-url', opts.productionUrl);
          const sandboxUrl = opts.sandboxUrl === undefined ? undefined : validateBackendUrl('--sandbox-url', opts.sandboxUrl);
          const tiers = [...new Set(opts.tiers.split(',').map((t) => t.trim()).filter(Boolean))];
          let timeoutMs: number | undefined;
          if (opts.timeout !== undefined) {
            timeoutMs = Number(opts.timeout);
            if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new CliError(`invalid --timeout "${opts.timeout}": 1 to 600000 ms`);
          }
          await withStore(cmd, async (store, config) => {
            const unknown = tiers.filter((t) => !(t in config.throttling.tiers));
            if (tiers.length === 0 || unknown.length > 0) {
              throw new CliError(`unknown tier ${unknown.join(', ') || '(none given)'}: configured tiers are ${Object.keys(config.throttling.tiers).join(', ')}`);
            }
            const created = await store.apis.create({
              name: opts.name,
              context,
              version: opts.version,
              productionUrl,
              ...(sandboxUrl ? { sandboxUrl } : {}),
              tiers,
              ...(timeoutMs ? { timeoutMs } : {}),
              sendJwt: Boolean(opts.jwt),
              status: opts.publish ? 'PUBLISHED' : 'CREATED',
            });
            emit(opts, describeApi(created), `API ${created.name}:${created.version} created at ${created.context}/${created.version} (${created.status})`);
          });
        }),
    );

  for (const [verb, status, what] of [
    ['publish', 'PUBLISHED', 'make the API callable on the gateway'],
    ['retire', 'RETIRED', 'stop serving the API (calls get 404)'],
  ] as const) {
    api
      .command(verb)
      .description(what)
      .argument('<api>', 'NAME:VERSION')
      .option('--json', 'print one JSON object')
      .action(async (ref: string, opts: { json?: boolean }, cmd: Command) =>
        run(opts, async () => {
          const { name, version } = parseApiRef(ref);
          const updated = await withStore(cmd, (store) => store.apis.setStatus(name, version, status));
          emit(opts, describeApi(updated), `API ${name}:${version} is ${updated.status}`);
        }),
      );
  }

  api
    .command('list')
    .description('list APIs')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        const apis = await withStore(cmd, (store) => store.apis.list());
        emit(
          opts,
          { apis: apis.map(describeApi) },
          apis.length === 0 ? 'no APIs' : apis.map((a) => `${a.name}:${a.version}\t${a.context}/${a.version}\t${a.status}\t${a.tiers.join(',')}`).join('\n'),
        );
      }),
    );
  return api;
}

/** The application and API a subscription command names; a clear error when either is missing. */
async function findTarget(store: Store, opts: { owner: string; app: string; api: string }) {
  const ref = parseApiRef(opts.api);
  const application = await store.applications.find(opts.owner, opts.app);
  if (!application) throw new NotFound(`user "${opts.owner}" has no application named "${opts.app}"`);
  const api = await store.apis.find(ref.name, ref.version);
  if (!api) throw new NotFound(`no API ${ref.name}:${ref.version}`);
  return { application, api };
}

export function subscriptionCommands(): Command[] {
  const target = (c: Command) =>
    c
      .requiredOption('--owner <username>', 'owner of the application')
      .requiredOption('--app <name>', 'application name')
      .requiredOption('--api <api>', 'NAME:VERSION')
      .option('--json', 'print one JSON object');

  const subscribe = target(new Command('subscribe').description('subscribe an application to an API version'))
    .option('--tier <tier>', 'a tier the API offers (default: its first)')
    .action(async (opts: { owner: string; app: string; api: string; tier?: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withStore(cmd, async (store) => {
          const { application, api } = await findTarget(store, opts);
          const tier = opts.tier ?? api.tiers[0]!;
          if (!api.tiers.includes(tier)) throw new CliError(`API ${api.name}:${api.version} does not offer tier "${tier}" (it offers ${api.tiers.join(', ')})`);
          await store.apis.subscribe(application.id, api.id, tier);
          emit(opts, { application: application.name, owner: opts.owner, api: `${api.name}:${api.version}`, tier, status: 'ACTIVE' }, `${application.name} subscribed to ${api.name}:${api.version} (tier ${tier})`);
        });
      }),
    );

  const unsubscribe = target(new Command('unsubscribe').description('remove an application\'s subscription')).action(
    async (opts: { owner: string; app: string; api: string; json?: boolean }, cmd: Command) =>
      run(opts, async () => {
        await withStore(cmd, async (store) => {
          const { application, api } = await findTarget(store, opts);
          if (!(await store.apis.unsubscribe(application.id, api.id))) {
            throw new NotFound(`${opts.app} of ${opts.owner} is not subscribed to ${opts.api}`);
          }
          emit(opts, { application: opts.app, owner: opts.owner, api: opts.api, unsubscribed: true }, `${opts.app} unsubscribed from ${opts.api}`);
        });
      }),
  );

  const subscription = new Command('subscription').description('block or unblock a subscription');
  for (const [verb, status] of [
    ['block', 'BLOCKED'],
    ['unblock', 'ACTIVE'],
  ] as const) {
    subscription.addCommand(
      target(new Command(verb).description(`${verb} an application's calls to an API`)).action(
        async (opts: { owner: string; app: string; api: string; json?: boolean }, cmd: Command) =>
          run(opts, async () => {
            await withStore(cmd, async (store) => {
              const { application, api } = await findTarget(store, opts);
              if (!(await store.apis.setSubscriptionStatus(application.id, api.id, status))) {
                throw new NotFound(`${opts.app} of ${opts.owner} is not subscribed to ${opts.api}`);
              }
              emit(opts, { application: opts.app, owner: opts.owner, api: opts.api, status }, `subscription of ${opts.app} to ${opts.api} is ${status}`);
            });
          }),
      ),
    );
  }
  return [subscribe, unsubscribe, subscription];
}
