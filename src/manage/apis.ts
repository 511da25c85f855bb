import { Conflict, InvalidInput, NotFound } from '../errors.js';
import type { Api, ApiFields } from '../store/apis.js';
import type { ManagedStores } from '../store/index.js';
import { hasRole, requireRole, type Actor } from './actor.js';
import type { ManageContext } from './context.js';
import { isNameVersion, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';
import * as rules from './rules.js';
import { apiView, type ApiView } from './views.js';

export interface ApiInput {
  name: string;
  context: string;
  version: string;
  productionUrl: string;
  sandboxUrl?: string | null;
  tiers?: string[];
  /** A number, or a form field's text (refused in the service's words when it is not one). */
  timeoutMs?: number | string | null;
  jwt?: boolean;
  description?: string | null;
}

export type ApiUpdate = Partial<ApiInput>;

/**
 * Refuses (409) a route that overlaps another API's (rules.distinctRoute), checked and then
 * written with the routes locked, so two overlapping APIs created at once cannot both pass.
 */
async function routeIsFree(tx: ManagedStores, api: { id?: string; context: string; version: string }, field?: 'context' | 'version'): Promise<void> {
  await tx.apis.lockRoutes();
  rules.distinctRoute(api, await tx.apis.underFirstSegment(rules.firstSegment(api.context)), field);
}

/** The tiers an API offers unless the publisher chooses: the node's configured ones. */
const defaultTiers = (tiers: Record<string, unknown>): string[] => Object.keys(tiers);

/**
 * APIs (the Publisher): publishers and admins create, change, publish, retire and delete
 * them; everyone signed in sees the published ones.
 */
export class Apis {
  constructor(private readonly c: ManageContext) {}

  async create(actor: Actor, input: ApiInput): Promise<ApiView> {
    requireRole(actor, 'publisher', 'creating APIs');
    const tiers = this.c.config.throttling.tiers;
    const api: Omit<Api, 'id' | 'createdAt'> = {
      name: rules.apiName(input.name),
      context: rules.context(input.context),
      version: rules.version(input.version),
      productionUrl: rules.backendUrl('productionUrl', input.productionUrl),
      // No sandbox: left out, null or "" (as an update takes them).
      ...(input.sandboxUrl != null && input.sandboxUrl !== '' ? { sandboxUrl: rules.backendUrl('sandboxUrl', input.sandboxUrl) } : {}),
      tiers: rules.apiTiers(input.tiers ?? defaultTiers(tiers), tiers),
      ...(input.timeoutMs != null ? { timeoutMs: rules.timeoutMs(input.timeoutMs) } : {}),
      sendJwt: input.jwt ?? false,
      description: rules.description(input.description ?? null),
      status: 'CREATED',
    };
    return this.c.recorder.change(actor, { operation: 'createApi', targetType: 'api', detail: { name: api.name, version: api.version, context: api.context } }, async (tx) => {
      await routeIsFree(tx, api);
      const created = await tx.apis.create(api);
      // A path asked for before the API existed is cached as "no such API".
      return { value: apiView(created), targetId: created.id, changes: [{ kind: 'apis' }] };
    });
  }

  /** Published APIs for subscribers; every API for publishers and admins. */
  async list(actor: Actor, page: PageRequest = {}): Promise<Page<ApiView>> {
    const limit = limitOf(page);
    const status = hasRole(actor, 'publisher') ? undefined : 'PUBLISHED';
    return pageView(await this.c.store.apis.list({ ...(status ? { status } : {}), after: positionOf(page, isNameVersion), limit }), apiView);
  }

  async get(actor: Actor, id: string): Promise<ApiView> {
    return apiView(await this.visible(actor, id));
  }

  /** An API by name and version, as the CLI names it (NAME:VERSION). */
  async byRef(actor: Actor, name: string, version: string): Promise<ApiView> {
    const api = await this.c.store.apis.find(name, version);
    if (!api || (!hasRole(actor, 'publisher') && api.status !== 'PUBLISHED')) throw new NotFound(`no API ${name}:${version}`);
    return apiView(api);
  }

  async update(actor: Actor, id: string, input: ApiUpdate): Promise<ApiView> {
    requireRole(actor, 'publisher', 'changing APIs');
    const api = await this.visible(actor, id);
    const fields: ApiFields = {};
    if (input.name !== undefined) fields.name = rules.apiName(input.name);
    if (input.context !== undefined) fields.context = rules.context(input.context);
    if (input.version !== undefined) fields.version = rules.version(input.version);
    if (input.productionUrl !== undefined) fields.productionUrl = rules.backendUrl('productionUrl', input.productionUrl);
    if (input.sandboxUrl !== undefined) fields.sandboxUrl = input.sandboxUrl === null || input.sandboxUrl === '' ? null : rules.backendUrl('sandboxUrl', input.sandboxUrl);
    if (input.tiers !== undefined) fields.tiers = rules.apiTiers(input.tiers, this.c.config.throttling.tiers);
    if (input.timeoutMs !== undefined) fields.timeoutMs = input.timeoutMs === null ? null : rules.timeoutMs(input.timeoutMs);
    if (input.jwt !== undefined) fields.sendJwt = input.jwt;
    if (input.description !== undefined) fields.description = rules.description(input.description);
    if (Object.keys(fields).length === 0) throw new InvalidInput(undefined, 'nothing to change');
    if (fields.tiers !== undefined) {
      const dropped = api.tiers.filter((t) => !fields.tiers!.includes(t));
      const using = await this.c.store.apis.countSubscriptions(api.id, dropped);
      if (using > 0) throw new Conflict(`${using} subscription(s) of ${api.name}:${api.version} use a tier you are removing (${dropped.join(', ')}); change or remove them first`);
    }
    const route = { id: api.id, context: fields.context ?? api.context, version: fields.version ?? api.version };
    // Only a new route is checked: two APIs that overlapped before this rule keep working as they did.
    const moves = route.context !== api.context || route.version !== api.version;
    return this.c.recorder.change(actor, { operation: 'updateApi', targetType: 'api', targetId: api.id, detail: { ...fields } }, async (tx) => {
      if (moves) await routeIsFree(tx, route, route.context !== api.context ? 'context' : 'version');
      await tx.apis.update(api.id, fields);
      return { value: apiView((await tx.apis.findById(api.id))!), changes: [{ kind: 'apis' }] };
    });
  }

  publish(actor: Actor, id: string): Promise<ApiView> {
    return this.setStatus(actor, id, 'PUBLISHED', 'publishApi');
  }

  /** A retired API stops routing at once (404); its subscriptions stay, in case it is published again. */
  retire(actor: Actor, id: string): Promise<ApiView> {
    return this.setStatus(actor, id, 'RETIRED', 'retireApi');
  }

  /** Deletes an API nothing subscribes to. */
  async remove(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'publisher', 'deleting APIs');
    const api = await this.visible(actor, id);
    const subs = await this.c.store.apis.countSubscriptions(api.id);
    if (subs > 0) throw new Conflict(`API ${api.name}:${api.version} has ${subs} subscription(s): remove them first (or retire the API)`);
    await this.c.recorder.change(actor, { operation: 'deleteApi', targetType: 'api', targetId: api.id, detail: { name: api.name, version: api.version } }, async (tx) => {
      await tx.apis.remove(api.id);
      return { value: undefined, changes: [{ kind: 'apis' }] };
    });
  }

  private async setStatus(actor: Actor, id: string, status: Api['status'], operation: string): Promise<ApiView> {
    requireRole(actor, 'publisher', operation === 'publishApi' ? 'publishing APIs' : 'retiring APIs');
    const api = await this.visible(actor, id);
    return this.c.recorder.change(actor, { operation, targetType: 'api', targetId: api.id, detail: { from: api.status, to: status } }, async (tx) => {
      await tx.apis.update(api.id, { status });
      return { value: apiView({ ...api, status }), changes: [{ kind: 'apis' }] };
    });
  }

  /** An API the actor may see: any for publishers and admins, only published ones for subscribers. */
  async visible(actor: Actor, id: string): Promise<Api> {
    const api = await this.c.store.apis.findById(id);
    if (!api || (!hasRole(actor, 'publisher') && api.status !== 'PUBLISHED')) throw new NotFound(`no API ${id}`);
    return api;
  }
}
