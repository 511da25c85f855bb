import type { FastifyInstance } from 'fastify';
import type { Management } from '../../manage/index.js';
import { operation } from '../route.js';
import {
  AccessToken, AccessTokenBody, Application, ApplicationDetail, ApplicationParams, CreateApplicationBody, GenerateKeysBody, IssuedKeys, Key, KeyParams,
  PageQuery, RevokedKeyTokens, Token, TokenParams, Type, UpdateApplicationBody, UpdateKeysBody, UpdatedKey, pageOf, withPage,
} from '../schemas.js';

export function applicationRoutes(api: FastifyInstance, m: Management): void {
  const tag = 'Applications';
  operation(api, {
    method: 'POST', url: '/applications', operationId: 'createApplication', tag, status: 201,
    summary: 'Create an application (owned by the caller; an admin may name another owner)',
    body: CreateApplicationBody, response: Application,
    handler: ({ actor, body }) => m.applications.create(actor, body),
  });
  operation(api, {
    method: 'GET', url: '/applications', operationId: 'listApplications', tag,
    summary: "The caller's applications (an admin: everyone's, or one owner's)",
    query: withPage({ owner: Type.Optional(Type.String()) }), response: pageOf(Application, 'applications'),
    handler: ({ actor, query }) => m.applications.list(actor, query.owner === undefined ? {} : { owner: query.owner }, query),
  });
  operation(api, {
    method: 'GET', url: '/applications/:applicationId', operationId: 'getApplication', tag, summary: 'One application with its keys (never a secret)',
    params: ApplicationParams, response: ApplicationDetail,
    handler: ({ actor, params }) => m.applications.get(actor, params.applicationId),
  });
  operation(api, {
    method: 'PATCH', url: '/applications/:applicationId', operationId: 'updateApplication', tag,
    summary: "Change an application's name, callback URLs, tier, description or CORS origins",
    params: ApplicationParams, body: UpdateApplicationBody, response: Application,
    handler: ({ actor, params, body }) => m.applications.update(actor, params.applicationId, body),
  });
  operation(api, {
    method: 'DELETE', url: '/applications/:applicationId', operationId: 'deleteApplication', tag, status: 204,
    summary: 'Delete an application with its keys and subscriptions; its tokens stop working at once',
    params: ApplicationParams,
    handler: ({ actor, params }) => m.applications.remove(actor, params.applicationId),
  });

  const keys = 'Keys';
  operation(api, {
    method: 'POST', url: '/applications/:applicationId/keys/:keyType', operationId: 'generateKeys', tag: keys, status: 201,
    summary: 'Generate the consumer key and secret of a key type (the secret is shown only in this answer)',
    params: KeyParams, body: GenerateKeysBody, optionalBody: true, response: IssuedKeys,
    handler: ({ actor, params, body }) => m.keys.generate(actor, params.applicationId, params.keyType, body),
  });
  operation(api, {
    method: 'GET', url: '/applications/:applicationId/keys/:keyType', operationId: 'getKeys', tag: keys, summary: 'The consumer key, without its secret',
    params: KeyParams, response: Key,
    handler: ({ actor, params }) => m.keys.get(actor, params.applicationId, params.keyType),
  });
  operation(api, {
    method: 'PATCH', url: '/applications/:applicationId/keys/:keyType', operationId: 'updateKeys', tag: keys,
    summary: 'Set the lifetime of application tokens issued with the key (null: the server default); answers the previous value too',
    params: KeyParams, body: UpdateKeysBody, response: UpdatedKey,
    handler: ({ actor, params, body }) => m.keys.setValidity(actor, params.applicationId, params.keyType, body.validitySeconds),
  });
  operation(api, {
    method: 'POST', url: '/applications/:applicationId/keys/:keyType/secret', operationId: 'regenerateSecret', tag: keys,
    summary: 'Replace the consumer secret (the old one stops working on every node within a second)',
    params: KeyParams, response: IssuedKeys,
    handler: ({ actor, params }) => m.keys.regenerateSecret(actor, params.applicationId, params.keyType),
  });
  operation(api, {
    method: 'POST', url: '/applications/:applicationId/keys/:keyType/revoke-tokens', operationId: 'revokeKeyTokens', tag: keys,
    summary: 'Revoke every token issued with the key (new tokens still work)',
    params: KeyParams, response: RevokedKeyTokens,
    handler: ({ actor, params }) => m.keys.revokeTokens(actor, params.applicationId, params.keyType),
  });
  operation(api, {
    method: 'POST', url: '/applications/:applicationId/keys/:keyType/access-token', operationId: 'generateAccessToken', tag: keys,
    summary: 'An application access token for the key, shown once (the Store\'s "Generate access token")',
    params: KeyParams, body: AccessTokenBody, optionalBody: true, response: AccessToken,
    handler: ({ actor, params, body }) => m.keys.issueAccessToken(actor, params.applicationId, params.keyType, body.validitySeconds),
  });

  const tokens = 'Tokens';
  operation(api, {
    method: 'GET', url: '/applications/:applicationId/tokens', operationId: 'listApplicationTokens', tag: tokens,
    summary: "The application's live access tokens, newest first (metadata only)",
    params: ApplicationParams, query: PageQuery, response: pageOf(Token, 'tokens'),
    handler: ({ actor, params, query }) => m.tokens.list(actor, params.applicationId, query),
  });
  operation(api, {
    method: 'DELETE', url: '/applications/:applicationId/tokens/:tokenId', operationId: 'revokeApplicationToken', tag: tokens, status: 204,
    summary: 'Revoke one live token with its grant (its refresh token too)',
    params: TokenParams,
    handler: ({ actor, params }) => m.tokens.revoke(actor, params.applicationId, params.tokenId),
  });
}
