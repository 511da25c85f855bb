import type { FastifyInstance } from 'fastify';
import type { Management } from '../../manage/index.js';
import { operation } from '../route.js';
import { Api, ApiParams, CreateApiBody, CreateSubscriptionBody, PageQuery, Subscription, SubscriptionParams, Tier, Type, UpdateApiBody, pageOf, withPage } from '../schemas.js';

export function apiRoutes(api: FastifyInstance, m: Management): void {
  const tag = 'APIs';
  operation(api, {
    method: 'GET', url: '/tiers', operationId: 'listTiers', tag: 'Tiers',
    summary: 'The throttling tiers an API may offer and an application or subscription may have, with their limits, from throttling.tiers (any signed-in user)',
    query: PageQuery, response: pageOf(Tier, 'tiers'),
    handler: ({ actor, query }) => m.tiers.list(actor, query),
  });
  operation(api, {
    method: 'POST', url: '/apis', operationId: 'createApi', tag, status: 201, summary: 'Create an API, served at /{context}/{version}/… once published (publisher)',
    body: CreateApiBody, response: Api,
    handler: ({ actor, body }) => m.apis.create(actor, body),
  });
  operation(api, {
    method: 'GET', url: '/apis', operationId: 'listApis', tag, summary: 'Published APIs (publishers and admins: all)',
    query: PageQuery, response: pageOf(Api, 'APIs'),
    handler: ({ actor, query }) => m.apis.list(actor, query),
  });
  operation(api, {
    method: 'GET', url: '/apis/:apiId', operationId: 'getApi', tag, summary: 'One API',
    params: ApiParams, response: Api,
    handler: ({ actor, params }) => m.apis.get(actor, params.apiId),
  });
  operation(api, {
    method: 'PATCH', url: '/apis/:apiId', operationId: 'updateApi', tag, summary: "Change an API's name, context, version, backends, tiers, timeout, JWT switch or description (publisher)",
    params: ApiParams, body: UpdateApiBody, response: Api,
    handler: ({ actor, params, body }) => m.apis.update(actor, params.apiId, body),
  });
  operation(api, {
    method: 'POST', url: '/apis/:apiId/publish', operationId: 'publishApi', tag, summary: 'Make the API callable on the gateway (publisher)',
    params: ApiParams, response: Api,
    handler: ({ actor, params }) => m.apis.publish(actor, params.apiId),
  });
  operation(api, {
    method: 'POST', url: '/apis/:apiId/retire', operationId: 'retireApi', tag, summary: 'Stop serving the API: calls get 404 at once (publisher)',
    params: ApiParams, response: Api,
    handler: ({ actor, params }) => m.apis.retire(actor, params.apiId),
  });
  operation(api, {
    method: 'DELETE', url: '/apis/:apiId', operationId: 'deleteApi', tag, status: 204, summary: 'Delete an API nothing subscribes to (publisher)',
    params: ApiParams,
    handler: ({ actor, params }) => m.apis.remove(actor, params.apiId),
  });

  const subs = 'Subscriptions';
  operation(api, {
    method: 'POST', url: '/subscriptions', operationId: 'createSubscription', tag: subs, status: 201,
    summary: "Subscribe an application to a published API with one of its tiers (default: the API's first)",
    body: CreateSubscriptionBody, response: Subscription,
    handler: ({ actor, body }) => m.subscriptions.create(actor, body),
  });
  operation(api, {
    method: 'GET', url: '/subscriptions', operationId: 'listSubscriptions', tag: subs,
    summary: "Subscriptions of an application (applicationId) or of an API (apiId; publishers); without either, the caller's own",
    query: withPage({ applicationId: Type.Optional(Type.String()), apiId: Type.Optional(Type.String()) }), response: pageOf(Subscription, 'subscriptions'),
    handler: ({ actor, query }) => m.subscriptions.list(actor, { ...(query.applicationId ? { applicationId: query.applicationId } : {}), ...(query.apiId ? { apiId: query.apiId } : {}) }, query),
  });
  operation(api, {
    method: 'GET', url: '/subscriptions/:subscriptionId', operationId: 'getSubscription', tag: subs, summary: 'One subscription',
    params: SubscriptionParams, response: Subscription,
    handler: ({ actor, params }) => m.subscriptions.get(actor, params.subscriptionId),
  });
  operation(api, {
    method: 'POST', url: '/subscriptions/:subscriptionId/block', operationId: 'blockSubscription', tag: subs, summary: 'Block the application\'s calls to the API: 403 at once (publisher)',
    params: SubscriptionParams, response: Subscription,
    handler: ({ actor, params }) => m.subscriptions.block(actor, params.subscriptionId),
  });
  operation(api, {
    method: 'POST', url: '/subscriptions/:subscriptionId/unblock', operationId: 'unblockSubscription', tag: subs, summary: 'Unblock a subscription (publisher)',
    params: SubscriptionParams, response: Subscription,
    handler: ({ actor, params }) => m.subscriptions.unblock(actor, params.subscriptionId),
  });
  operation(api, {
    method: 'DELETE', url: '/subscriptions/:subscriptionId', operationId: 'deleteSubscription', tag: subs, status: 204, summary: 'Remove a subscription',
    params: SubscriptionParams,
    handler: ({ actor, params }) => m.subscriptions.remove(actor, params.subscriptionId),
  });
}
