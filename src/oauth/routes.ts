import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { nowSeconds } from '../clock.js';
import { authenticateClient, type ClientAuthFailed } from './client-auth.js';
import { assertClientOrigin, corsForClients, corsForPublic, PUBLIC_CORS } from './cors.js';
import { describeError, worthLogging } from '../errors.js';
import { toGatehouseError } from '../http/errors.js';
import { FORM, formBodyOf } from '../http/form.js';
import { ONE_AUTHORIZATION, repeatsAuthorization } from '../http/repeated-headers.js';
import { invalidClient, invalidRequest, OAuthError, unauthorizedClient, unsupportedGrantType } from './errors.js';
import { introspectToken } from './introspect.js';
import { serverMetadata } from './metadata.js';
import { Params } from './params.js';
import { revokeToken } from './revoke.js';
import type { OAuthService } from './service.js';
import type { Logger } from '../log.js';
import type { Client } from '../store/applications.js';

/** What the access line of a token-service request names: the client that authenticated, the grant asked for. */
const accessInfo = new WeakMap<FastifyRequest, { client?: Client; grantType?: string }>();

/** log.access on the token service: one line per request, like the gateway's (never the body or a header). */
function accessLogging(app: FastifyInstance, log: Logger): void {
  app.addHook('onResponse', (request, reply, done) => {
    const info = accessInfo.get(request);
    const url = request.url;
    const q = url.indexOf('?');
    log.info({
      event: 'access',
      method: request.method,
      path: q === -1 ? url : url.slice(0, q),
      api: null,
      version: null,
      grant_type: info?.grantType ?? null,
      application: info?.client?.applicationName ?? null,
      application_id: info?.client?.applicationId ?? null,
      key_type: info?.client?.keyType ?? null,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      remote: request.ip,
    }, 'access');
    done();
  });
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** Reads the form body; anything but application/x-www-form-urlencoded is invalid_request. */
const FORM_MESSAGES = { tooLarge: 'The request body is larger than 64 KiB.', badContentType: `The request body must be ${FORM}.` };

function formParams(request: FastifyRequest): Params {
  const body = formBodyOf(request);
  if (body === undefined) throw invalidRequest(FORM_MESSAGES.badContentType);
  const params = new Params(body);
  params.assertNoNul();
  params.assertNoRepeats();
  return params;
}

/** Turns any error in this context into an RFC 6749 §5.2 JSON error, never a bare 5xx page. */
function oauthErrorHandler(this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const g = toGatehouseError(err, FORM_MESSAGES);
  const e = OAuthError.from(g);
  if (worthLogging(g)) request.log.error({ err: describeError(e) }, 'oauth endpoint failed');
  return reply.code(e.status).headers({ ...NO_STORE, ...e.headers }).send(e.toJSON());
}

/**
 * The authorization server's endpoints on a gateway listener: /token (and /login, the
 * original WSO2 alias), /revoke, /introspect and the RFC 8414 metadata document.
 */
export async function oauthRoutes(app: FastifyInstance, opts: { service: OAuthService; accessLog?: Logger | undefined }): Promise<void> {
  const { service } = opts;
  const logAccess = opts.accessLog !== undefined;
  if (opts.accessLog !== undefined) accessLogging(app, opts.accessLog);
  await app.register(formbody, { bodyLimit: 65536 });
  app.setErrorHandler(oauthErrorHandler);
  corsForClients(app, CLIENT_URLS, service.origins);

  /** Client authentication failures: a security event, one line per client and address a minute. */
  const clientFailed = (request: FastifyRequest): ClientAuthFailed => (clientId, reason, presentedId) =>
    service.security.emit(
      'client_authentication_failed',
      // An unknown id is whatever the caller typed (a secret swapped with the key): only its fingerprint is logged.
      { client_id: clientId, presented: { client_id: presentedId }, remote: request.ip, reason, extra: { endpoint: request.routeOptions.url ?? null } },
      // Unknown ids are the caller's to choose: those count per address, so rotating them cannot flood the log.
      { limitKey: reason === 'unknown_client' ? `unknown ${request.ip}` : `${clientId ?? ''} ${request.ip}` },
    );
  const authenticate = async (request: FastifyRequest, params: Params) => {
    // RFC 6749 §2.3: one authentication method per request; Node would keep only the first header.
    if (repeatsAuthorization(request.raw.rawHeaders)) throw invalidRequest(ONE_AUTHORIZATION);
    const client = await authenticateClient(request.headers.authorization, params, service.clients, clientFailed(request));
    if (logAccess) accessInfo.set(request, { ...accessInfo.get(request), client: client.client });
    return client;
  };

  const token = async (request: FastifyRequest, reply: FastifyReply) => {
    let grantLabel = 'none';
    try {
      const params = formParams(request);
      const grantType = params.get('grant_type');
      if (grantType !== undefined) grantLabel = service.grants.has(grantType) ? grantType : 'unsupported';
      if (logAccess) accessInfo.set(request, { grantType: grantLabel });
      const body = await issue(request, params, grantType);
      service.metrics.issued(grantLabel, body.keyType);
      return reply.headers(NO_STORE).send(body.response);
    } catch (err) {
      service.metrics.failed(grantLabel, OAuthError.from(toGatehouseError(err, FORM_MESSAGES)).error);
      throw err;
    }
  };
  const issue = async (request: FastifyRequest, params: Params, grantType: string | undefined) => {
    if (grantType === undefined) throw invalidRequest("missing parameter 'grant_type'");
    const client = await authenticate(request, params);
    assertClientOrigin(request, client);
    const grant = service.grants.get(grantType);
    if (!grant) throw unsupportedGrantType(`This grant_type is not supported; supported: ${[...service.grants.keys()].join(' ')}.`);
    if (client.method === 'none' && !grant.allowsPublicClients) {
      throw unauthorizedClient(`A public client may not use the ${grant.type} grant.`);
    }
    const response = await grant.handle({ client, params: params.only(grant.parameters), now: nowSeconds(), address: request.ip });
    return { response, keyType: client.client.keyType };
  };
  app.post('/token', token);
  app.post('/login', token);

  app.post('/revoke', async (request, reply) => {
    const params = formParams(request);
    const client = await authenticate(request, params);
    assertClientOrigin(request, client);
    await revokeToken({ tokens: service.store.tokens, format: service.format, revocation: service.revocation }, client, params, nowSeconds());
    return reply.headers(NO_STORE).code(200).send();
  });

  app.post('/introspect', async (request, reply) => {
    const params = formParams(request);
    const client = await authenticate(request, params);
    assertClientOrigin(request, client);
    if (client.method === 'none') throw invalidClient('Introspection needs a confidential client.');
    const body = await introspectToken({ tokens: service.store.tokens, format: service.format, issuer: service.config.issuer }, client, params, nowSeconds());
    return reply.headers(NO_STORE).send(body);
  });

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    return reply.headers({ 'cache-control': 'public, max-age=300', ...PUBLIC_CORS }).send(serverMetadata(service));
  });
  corsForPublic(app, '/.well-known/oauth-authorization-server');

  // Any other method on these URLs (every one the listener routes: TRACE, QUERY, PROPFIND…):
  // 405 with Allow, in RFC 6749's JSON (not the gateway's fault for an unknown API, which is
  // what the catch-all would answer). OPTIONS is left to CORS.
  for (const url of CLIENT_URLS) methodNotAllowed(app, url, ['POST']);
  methodNotAllowed(app, '/.well-known/oauth-authorization-server', ['GET', 'HEAD']);
}

/** The endpoints a client authenticates to (CORS per application). */
const CLIENT_URLS = ['/token', '/login', '/revoke', '/introspect'] as const;

function methodNotAllowed(app: FastifyInstance, url: string, allow: string[]): void {
  const allowHeader = allow.join(', ');
  const body = new OAuthError('invalid_request', `This endpoint accepts only ${allow.join(' and ')}.`, 405).toJSON();
  app.route({
    method: app.supportedMethods.filter((m) => m !== 'OPTIONS' && !allow.includes(m)),
    url,
    handler: async (_request, reply) => reply.code(405).headers({ ...NO_STORE, allow: allowHeader }).send(body),
  });
}
