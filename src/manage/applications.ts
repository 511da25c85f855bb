import { Forbidden, InvalidInput, NotFound } from '../errors.js';
import type { Application } from '../store/index.js';
import { isAdmin, type Actor } from './actor.js';
import type { ManageContext } from './context.js';
import { isNameId, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';
import * as rules from './rules.js';
import { applicationView, keyView, type ApplicationDetail, type ApplicationView } from './views.js';

export interface ApplicationInput {
  name: string;
  callbackUrls?: string[];
  tier?: string;
  description?: string | null;
  allowedOrigins?: string[];
  /** Admins only: the owner (default: the actor). */
  owner?: string;
  /** Admins only: a resource server that may introspect every token. */
  introspectAll?: boolean;
}

export type ApplicationUpdate = Partial<Omit<ApplicationInput, 'owner'>>;

/** The tier every application gets unless another is chosen; always configured. */
export const DEFAULT_APPLICATION_TIER = 'Unlimited';

/** Applications: a subscriber's own, any for an admin. */
export class Applications {
  constructor(private readonly c: ManageContext) {}

  async create(actor: Actor, input: ApplicationInput): Promise<ApplicationView> {
    const owner = this.ownerFor(actor, input.owner);
    const name = rules.applicationName(input.name);
    const tier = rules.knownTier(input.tier ?? DEFAULT_APPLICATION_TIER, this.c.config.throttling.tiers);
    const callbackUrls = rules.callbackUrls(input.callbackUrls ?? [], this.c.config.oauth.allowInsecureCallbacks);
    const allowedOrigins = rules.origins(input.allowedOrigins ?? []);
    const description = rules.description(input.description ?? null);
    if (input.introspectAll !== undefined && !isAdmin(actor)) throw new Forbidden('only an admin may make an application a resource server (introspectAll)');
    return this.c.recorder.change(actor, { operation: 'createApplication', targetType: 'application', detail: { name, owner, tier } }, async (tx) => {
      const app = await tx.applications.create({ ownerUsername: owner, name, tier, callbackUrls, allowedOrigins, description, introspectAll: input.introspectAll ?? false });
      // Its CORS origins answer preflights at once (nodes cache the registered origins).
      return { value: applicationView(app), targetId: app.id, ...(allowedOrigins.length > 0 ? { changes: [{ kind: 'clients' as const, consumerKeys: [] }] } : {}) };
    });
  }

  /** The actor's applications; an admin sees everyone's (or one owner's). */
  async list(actor: Actor, filter: { owner?: string } = {}, page: PageRequest = {}): Promise<Page<ApplicationView>> {
    const owner = isAdmin(actor) ? filter.owner : actor.username;
    if (!isAdmin(actor) && filter.owner !== undefined && filter.owner !== actor.username) throw new Forbidden("listing another user's applications needs the admin role");
    const limit = limitOf(page);
    return pageView(await this.c.store.applications.list({ ...(owner !== undefined ? { owner } : {}), after: positionOf(page, isNameId), limit }), applicationView);
  }

  async get(actor: Actor, id: string): Promise<ApplicationDetail> {
    const app = await this.visible(actor, id);
    const keys = await this.c.store.applications.keys(app.id);
    return { ...applicationView(app), keys: keys.map(keyView) };
  }

  /** An application by owner and name, as the CLI names it. */
  async byName(actor: Actor, owner: string, name: string): Promise<ApplicationView> {
    const app = await this.c.store.applications.find(owner, name);
    if (!app || (!isAdmin(actor) && app.ownerUsername !== actor.username)) {
      if (isAdmin(actor) && !(await this.c.store.users.findByUsername(owner))) throw new NotFound(`no user "${owner}"`);
      throw new NotFound(`user "${owner}" has no application named "${name}"`);
    }
    return applicationView(app);
  }

  async update(actor: Actor, id: string, input: ApplicationUpdate): Promise<ApplicationView> {
    const app = await this.visible(actor, id);
    const fields: Partial<Application> = {};
    if (input.name !== undefined) fields.name = rules.applicationName(input.name);
    if (input.tier !== undefined) fields.tier = rules.knownTier(input.tier, this.c.config.throttling.tiers);
    if (input.callbackUrls !== undefined) fields.callbackUrls = rules.callbackUrls(input.callbackUrls, this.c.config.oauth.allowInsecureCallbacks);
    if (input.allowedOrigins !== undefined) fields.allowedOrigins = rules.origins(input.allowedOrigins);
    if (input.description !== undefined) fields.description = rules.description(input.description);
    if (input.introspectAll !== undefined) {
      if (!isAdmin(actor)) throw new Forbidden('only an admin may make an application a resource server (introspectAll)');
      fields.introspectAll = input.introspectAll;
    }
    if (Object.keys(fields).length === 0) throw new InvalidInput(undefined, 'nothing to change: give name, tier, callbackUrls, allowedOrigins, description or introspectAll');
    const consumerKeys = (await this.c.store.applications.keys(app.id)).map((k) => k.consumerKey);
    return this.c.recorder.change(actor, { operation: 'updateApplication', targetType: 'application', targetId: app.id, detail: changedFields(fields) }, async (tx) => {
      await tx.applications.update(app.id, fields, app.ownerUsername);
      return {
        value: applicationView((await tx.applications.findById(app.id))!),
        // The token endpoint caches client records (callbacks, origins); the gateway caches tokens with the application's name and tier.
        changes: [
          { kind: 'clients', consumerKeys },
          { kind: 'tokens', invalidation: { applicationIds: [app.id] } },
        ],
      };
    });
  }

  /** Deletes an application with its keys and subscriptions; its tokens stop working at once. */
  async remove(actor: Actor, id: string): Promise<void> {
    const app = await this.visible(actor, id);
    const consumerKeys = (await this.c.store.applications.keys(app.id)).map((k) => k.consumerKey);
    await this.c.recorder.change(actor, { operation: 'deleteApplication', targetType: 'application', targetId: app.id, detail: { name: app.name, owner: app.ownerUsername } }, async (tx) => {
      await tx.applications.remove(app.id);
      return {
        value: undefined,
        changes: [
          { kind: 'tokens', invalidation: { applicationIds: [app.id], consumerKeys } },
          { kind: 'clients', consumerKeys },
          { kind: 'apis' },
        ],
      };
    });
    // No key is left to issue with; mark the tokens revoked too, for introspection by resource servers.
    await this.c.revocation.consumerKeys(consumerKeys, this.c.clock());
  }

  /** An application the actor may act on: their own, or any for an admin; others are "not found". */
  async visible(actor: Actor, id: string): Promise<Application> {
    const app = await this.c.store.applications.findById(id);
    if (!app || (!isAdmin(actor) && app.ownerUsername !== actor.username)) throw new NotFound(`no application ${id}`);
    return app;
  }

  private ownerFor(actor: Actor, owner: string | undefined): string {
    if (owner === undefined || owner === actor.username) {
      if (actor.kind === 'cli') throw new InvalidInput('owner', 'give the owner of the application');
      return actor.username;
    }
    if (!isAdmin(actor)) throw new Forbidden('creating an application for another user needs the admin role');
    return rules.username(owner, 'owner');
  }
}

/** What an update changed, for the audit trail: field names and values (applications hold no secret). */
function changedFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
