import { Forbidden, InvalidInput, NotFound } from '../errors.js';
import type { SubscriptionDetail } from '../store/index.js';
import { hasRole, isAdmin, requireRole, type Actor } from './actor.js';
import type { Applications } from './applications.js';
import type { Apis } from './apis.js';
import type { ManageContext } from './context.js';
import { isNumber, isString, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';
import { subscriptionView, type SubscriptionView } from './views.js';

const isSubPosition = (v: unknown): v is { createdAt: number; id: string } =>
  typeof v === 'object' && v !== null && isNumber((v as { createdAt?: unknown }).createdAt) && isString((v as { id?: unknown }).id);

/** Whether the actor may remove this subscription (one they can see): a blocked one, only a publisher or an admin. */
export const mayRemove = (actor: Actor, sub: { status: string }): boolean => sub.status !== 'BLOCKED' || hasRole(actor, 'publisher');

/**
 * Subscriptions of applications to published APIs with a tier: made and removed by the
 * application's owner, blocked and unblocked by publishers (and admins).
 */
export class Subscriptions {
  constructor(
    private readonly c: ManageContext,
    private readonly applications: Applications,
    private readonly apis: Apis,
  ) {}

  async create(actor: Actor, input: { applicationId: string; apiId: string; tier?: string }): Promise<SubscriptionView> {
    const app = await this.applications.visible(actor, input.applicationId);
    const api = await this.apis.visible(actor, input.apiId);
    // Subscribers see published APIs only; publishers may also subscribe to one not yet published (to try it), never to a retired one.
    if (api.status === 'RETIRED') throw new InvalidInput('apiId', `API ${api.name}:${api.version} is retired: it cannot be subscribed to`);
    const tier = input.tier ?? api.tiers[0]!;
    if (!api.tiers.includes(tier)) throw new InvalidInput('tier', `API ${api.name}:${api.version} does not offer tier "${tier}" (it offers ${api.tiers.join(', ')})`);
    return this.c.recorder.change(actor, { operation: 'createSubscription', targetType: 'subscription', detail: { applicationId: app.id, apiId: api.id, tier } }, async (tx) => {
      const sub = await tx.apis.subscribe(app.id, api.id, tier);
      const detail: SubscriptionDetail = { ...sub, applicationName: app.name, owner: app.ownerUsername, apiName: api.name, apiVersion: api.version };
      return { value: subscriptionView(detail), targetId: sub.id, changes: [{ kind: 'apis' }] };
    });
  }

  /**
   * Subscriptions of an application (its owner, an admin), of an API (publishers, admins), or
   * without a filter: the actor's own applications' (an admin: all).
   */
  async list(actor: Actor, filter: { applicationId?: string; apiId?: string } = {}, page: PageRequest = {}): Promise<Page<SubscriptionView>> {
    const limit = limitOf(page);
    const after = positionOf(page, isSubPosition);
    const opts: { applicationId?: string; apiId?: string; owner?: string } = {};
    if (filter.applicationId !== undefined) opts.applicationId = (await this.applications.visible(actor, filter.applicationId)).id;
    if (filter.apiId !== undefined) {
      if (!hasRole(actor, 'publisher') && filter.applicationId === undefined) throw new Forbidden("listing an API's subscribers needs the publisher role");
      opts.apiId = (await this.apis.visible(actor, filter.apiId)).id;
    }
    if (opts.applicationId === undefined && opts.apiId === undefined && !isAdmin(actor)) opts.owner = actor.username;
    return pageView(await this.c.store.apis.listSubscriptions({ ...opts, after, limit }), subscriptionView);
  }

  async get(actor: Actor, id: string): Promise<SubscriptionView> {
    return subscriptionView(await this.visible(actor, id));
  }

  /** The subscription of an application to an API (the CLI names both). */
  async between(actor: Actor, applicationId: string, apiId: string): Promise<SubscriptionView> {
    const app = await this.applications.visible(actor, applicationId);
    const sub = await this.c.store.apis.findSubscription(app.id, apiId);
    if (!sub) throw new NotFound(`application ${app.name} is not subscribed to this API`);
    return this.get(actor, sub.id);
  }

  block(actor: Actor, id: string): Promise<SubscriptionView> {
    return this.setStatus(actor, id, 'BLOCKED');
  }

  unblock(actor: Actor, id: string): Promise<SubscriptionView> {
    return this.setStatus(actor, id, 'ACTIVE');
  }

  /**
   * Removes a subscription (its application's owner, publishers, admins). A blocked one only a
   * publisher or an admin may remove: its owner removing it and subscribing again would undo
   * the block.
   */
  async remove(actor: Actor, id: string): Promise<void> {
    const sub = await this.visible(actor, id);
    if (!mayRemove(actor, sub)) {
      throw new Forbidden(`the subscription of ${sub.applicationName} to ${sub.apiName}:${sub.apiVersion} is blocked by a publisher: only a publisher or an admin may remove it`);
    }
    await this.c.recorder.change(actor, { operation: 'deleteSubscription', targetType: 'subscription', targetId: sub.id, detail: { applicationId: sub.applicationId, apiId: sub.apiId } }, async (tx) => {
      await tx.apis.removeSubscription(sub.id);
      return { value: undefined, changes: [{ kind: 'apis' }] };
    });
  }

  private async setStatus(actor: Actor, id: string, status: 'ACTIVE' | 'BLOCKED'): Promise<SubscriptionView> {
    requireRole(actor, 'publisher', status === 'BLOCKED' ? 'blocking subscriptions' : 'unblocking subscriptions');
    const sub = await this.visible(actor, id);
    const operation = status === 'BLOCKED' ? 'blockSubscription' : 'unblockSubscription';
    return this.c.recorder.change(actor, { operation, targetType: 'subscription', targetId: sub.id, detail: { from: sub.status, to: status } }, async (tx) => {
      await tx.apis.setSubscriptionStatus(sub.id, status);
      return { value: subscriptionView({ ...sub, status }), changes: [{ kind: 'apis' }] };
    });
  }

  /** A subscription the actor may see: of their own applications, or any for publishers and admins. */
  private async visible(actor: Actor, id: string): Promise<SubscriptionDetail> {
    const sub = await this.c.store.apis.findSubscriptionById(id);
    const found = sub && (await this.c.store.apis.listSubscriptions({ applicationId: sub.applicationId, apiId: sub.apiId, limit: 1 })).items[0];
    if (!found || (!hasRole(actor, 'publisher') && found.owner !== actor.username)) throw new NotFound(`no subscription ${id}`);
    return found;
  }
}
