import type { FastifyInstance } from 'fastify';
import type { Management } from '../../manage/index.js';
import { operation } from '../route.js';
import {
  AuditEvent, RotateSigningKeysBody, SigningKey, SigningKeyRotation, CreateIdentityProviderBody, IdentityProvider, IdentityProviderParams, PageQuery, RemovedIdentityProvider, Type, UpdateIdentityProviderBody, pageOf, withPage,
} from '../schemas.js';

export function adminRoutes(api: FastifyInstance, m: Management): void {
  const tag = 'Identity providers';
  operation(api, {
    method: 'POST', url: '/identity-providers', operationId: 'createIdentityProvider', tag, status: 201,
    summary: 'Trust a SAML 2.0 identity provider for the saml2-bearer grant (admin)',
    body: CreateIdentityProviderBody, response: IdentityProvider,
    handler: ({ actor, body }) => m.identityProviders.create(actor, body),
  });
  operation(api, {
    method: 'GET', url: '/identity-providers', operationId: 'listIdentityProviders', tag, summary: 'Trusted identity providers (admin)',
    query: PageQuery, response: pageOf(IdentityProvider, 'identity providers'),
    handler: ({ actor, query }) => m.identityProviders.list(actor, query),
  });
  operation(api, {
    method: 'GET', url: '/identity-providers/:identityProviderId', operationId: 'getIdentityProvider', tag, summary: 'One identity provider (admin)',
    params: IdentityProviderParams, response: IdentityProvider,
    handler: ({ actor, params }) => m.identityProviders.get(actor, params.identityProviderId),
  });
  operation(api, {
    method: 'PATCH', url: '/identity-providers/:identityProviderId', operationId: 'updateIdentityProvider', tag,
    summary: 'Replace certificates (a key rollover), the alias or the accepted audiences (admin)',
    params: IdentityProviderParams, body: UpdateIdentityProviderBody, response: IdentityProvider,
    handler: ({ actor, params, body }) => m.identityProviders.update(actor, params.identityProviderId, body),
  });
  operation(api, {
    method: 'DELETE', url: '/identity-providers/:identityProviderId', operationId: 'deleteIdentityProvider', tag,
    summary: 'Stop trusting an identity provider; every token of its subjects is revoked (admin)',
    params: IdentityProviderParams, response: RemovedIdentityProvider,
    handler: ({ actor, params }) => m.identityProviders.remove(actor, params.identityProviderId),
  });

  operation(api, {
    method: 'GET', url: '/audit-events', operationId: 'listAuditEvents', tag: 'Audit',
    summary: 'The audit trail, newest first: who changed what, when and from where (admin)',
    query: withPage({ since: Type.Optional(Type.String({ description: 'an ISO 8601 time, or a duration ago such as 15m, 24h, 7d' })) }),
    response: pageOf(AuditEvent, 'audit events'),
    handler: ({ actor, query }) => m.audit.list(actor, query.since === undefined ? {} : { since: query.since }, query),
  });

  operation(api, {
    method: 'GET', url: '/signing-keys', operationId: 'listSigningKeys', tag: 'Signing keys',
    summary: "The cluster's X-JWT-Assertion signing keys, newest first; never a private half (admin)",
    response: pageOf(SigningKey, 'signing keys'),
    handler: async ({ actor }) => ({ items: await m.signingKeys.list(actor), next: null }),
  });
  operation(api, {
    method: 'POST', url: '/signing-keys/rotate', operationId: 'rotateSigningKeys', tag: 'Signing keys', optionalBody: true,
    summary: 'The next key starts signing on every node; a new next key is published; the old key stays published until its assertions have expired (admin)',
    body: RotateSigningKeysBody, response: SigningKeyRotation,
    handler: ({ actor, body }) => m.signingKeys.rotate(actor, { force: body.force === true }),
  });
}
