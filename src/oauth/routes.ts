import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { nowSeconds } from '../clock.js';
import { authenticateClient } from './client-auth.js';
import { invalidClient, invalidRequest, isUnstorableInput, OAuthError, unauthorizedClient, unsupportedGrantType } from './errors.js';
import { introspectToken } from './introspect.js';
import { serverMetadata } from './metadata.js';
import { Params, type FormBody } from './params.js';
import { revokeToken } from './revoke.js';
import type { OAuthService } from './service.js';

export const FORM = 'application/x-www-form-urlencoded';


const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** Reads the form body; anything but application/x-www-form-urlencoded is invalid_request. */
function formParams(request: FastifyRequest): Params {
  const type = request.headers['content-type'];
  if (!type || !type.toLowerCase().startsWith(FORM) || typeof request.body !== 'object' || request.body === null) {
    throw invalidRequest(`The request body must be ${FORM}.`);
  }
  const params = new Params(request.body as FormBody);
  params.assertNoNul();
  params.assertNoRepeats();
  return params;
}

/** Turns any error in this context into an RFC 6749 §5.2 JSON error, never a bare 5xx page. */
function oauthErrorHandler(this: FastifyInstance, err: FastifyError | OAuthError, request: FastifyRequest, reply: FastifyReply) {
  let e: OAuthError;
  if (err instanceof OAuthError) e = err;
  else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new OAuthError('invalid_request', 'The request body is larger than 64 KiB.', 413);
  else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_EMPTY_TYPE') e = invalidRequest(`The request body must be ${FORM}.`);
  // Fastify's own messages may quote the request (a header value): say what failed, not what was sent.
  else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) e = invalidRequest(`The request could not be read (${err.code ?? 'bad request'}).`);
  else if (isUnstorableInput(err)) e = invalidRequest('A parameter has a value that is too long or not valid text.');
  else {
    request.log.error({ err: { message: err.message, code: err.code, stack: err.stack } }, 'oauth endpoint failed');
    e = new OAuthError('server_error', 'The server could not complete the request.', 500);
  }
  return reply.code(e.status).headers({ ...NO_STORE, ...e.headers }).send(e.toJSON());
}

/**
 * The authorization server's endpoints on a gateway listener: /token (and /login, the
 * original WSO2 alias), /revoke, /introspect and the RFC 8414 metadata document.
 */
export async function oauthRoutes(app: FastifyInstance, opts: { service: OAuthService }): Promise<void> {
  const { service } = opts;
  await app.register(formbody, { bodyLimit: 65536 });
  app.setErrorHandler(oauthErrorHandler);

  const token = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = formParams(request);
    const grantType = params.get('grant_type');
    if (grantType === undefined) throw invalidRequest("missing parameter 'grant_type'");
    const client = await authenticateClient(request.headers.authorization, params, service.clients);
    const grant = service.grants.get(grantType);
    if (!grant) throw unsupportedGrantType(`This grant_type is not supported; supported: ${[...service.grants.keys()].join(' ')}.`);
    if (client.method === 'none' && !grant.allowsPublicClients) {
      throw unauthorizedClient(`A public client may not use the ${grant.type} grant.`);
    }
    const body = await grant.handle({ client, params: params.only(grant.parameters), now: nowSeconds() });
    return reply.headers(NO_STORE).send(body);
  };
  app.post('/token', token);
  app.post('/login', token);

  app.post('/revoke', async (request, reply) => {
    const params = formParams(request);
    const client = await authenticateClient(request.headers.authorization, params, service.clients);
    await revokeToken({ tokens: service.store.tokens, format: service.format, events: service.events }, client, params, nowSeconds());
    return reply.headers(NO_STORE).code(200).send();
  });

  app.post('/introspect', async (request, reply) => {
    const params = formParams(request);
    const client = await authenticateClient(request.headers.authorization, params, service.clients);
    if (client.method === 'none') throw invalidClient('Introspection needs a confidential client.');
    const body = await introspectToken({ tokens: service.store.tokens, format: service.format, issuer: service.config.issuer }, client, params, nowSeconds());
    return reply.headers(NO_STORE).send(body);
  });

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(serverMetadata(service));
  });
}
