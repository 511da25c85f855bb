import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, GatehouseError, InvalidInput, worthLogging } from '../errors.js';
import { toGatehouseError } from '../http/errors.js';
import { ONE_AUTHORIZATION, repeatsAuthorization } from '../http/repeated-headers.js';
import { InsufficientScope, MANAGE_SCOPE, Unauthenticated, type Management } from '../manage/index.js';
import { sendProblem } from './problem.js';
import { documentOptionalBodies } from './route.js';
import { adminRoutes } from './routes/admin.js';
import { applicationRoutes } from './routes/applications.js';
import { apiRoutes } from './routes/apis.js';
import { userRoutes } from './routes/users.js';

export const API_PREFIX = '/api/v1';
export const API_BODY_LIMIT = 1024 * 1024;
const REALM = 'gatehouse';

/** The reference page's policy: our own scripts and styles only, nothing from another origin. */
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * Request validation: types only (the rules are the service's). Bodies are taken as sent: no
 * coercion, no silently dropped fields (an unknown field is an error, a typo must not be
 * ignored); query strings and path parameters are coerced (`?limit=10`).
 */
function validators(): (route: { schema: object; httpPart?: string }) => (data: unknown) => boolean {
  const strict = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  const coercing = new Ajv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  for (const ajv of [strict, coercing]) ajv.addFormat('date-time', true).addFormat('uri', true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}

/** An AJV validation failure as the problem the client gets: which field, what is wrong. */
function validationProblem(err: FastifyError): GatehouseError {
  const first = err.validation?.[0];
  const path = (first?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
  const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  const field = missing ?? extra ?? (path || undefined);
  const where = err.validationContext === 'querystring' ? 'query parameter' : err.validationContext === 'params' ? 'path parameter' : 'field';
  if (missing !== undefined) return new InvalidInput(field, `missing ${where} ${missing}`);
  if (field === undefined && err.validationContext === 'body') return new InvalidInput(undefined, 'the request body must be a JSON object');
  if (extra !== undefined) return new InvalidInput(field, `unknown ${where} ${extra}`);
  return new InvalidInput(field, `${where} ${field ?? '(body)'} ${first?.message ?? 'is not valid'}`);
}

function errorHandler(this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const e = err.validation ? validationProblem(err) : toGatehouseError(err, { tooLarge: 'The request body is larger than 1 MiB.', badContentType: 'Send the request body as application/json.' });
  if (worthLogging(e)) request.log.error({ err: describeError(e) }, 'admin API call failed');
  const headers: Record<string, string | string[]> = {};
  if (e instanceof Unauthenticated) {
    headers['www-authenticate'] = [`Basic realm="${REALM}", charset="UTF-8"`, `Bearer realm="${REALM}"${e.bearerError ? `, error="${e.bearerError}"` : ''}`];
  } else if (e instanceof InsufficientScope) {
    headers['www-authenticate'] = `Bearer realm="${REALM}", error="insufficient_scope", scope="${MANAGE_SCOPE}"`;
  }
  if (e.kind === 'unavailable' || e.kind === 'rate_limited') headers['retry-after'] = String((e as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1);
  return sendProblem(reply, e.status === 415 || err.statusCode === 415 ? new GatehouseError('invalid', e.message, { status: 415 }) : e, headers);
}

/** RFC 7617 Basic credentials (user name and password, not form-encoded as OAuth clients' are). */
function basicCredentials(header: string): { username: string; password: string } | undefined {
  const m = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The admin REST API under /api/v1 on the portal listener: the management service's
 * operations, each found by its operationId in /api/v1/openapi.json, with the interactive
 * reference at /api/docs (served from the package; no CDN). Callers authenticate with HTTP
 * Basic (a user's name and password) or a Bearer token from /token with scope `manage`.
 */
export async function adminApi(app: FastifyInstance, opts: { management: Management }): Promise<void> {
  const m = opts.management;
  // the operations whose body may be left out, as their routes are added (the document is built later, on first request)
  const optionalBodies = new Set<string>();
  await app.register(async (root) => {
    await root.register(swagger, {
      transformObject: (document) => {
        const doc = 'openapiObject' in document ? document.openapiObject : document.swaggerObject;
        documentOptionalBodies(doc as Parameters<typeof documentOptionalBodies>[0], optionalBodies);
        return doc;
      },
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Gatehouse admin API',
          version: '1',
          description:
            'Users, applications and their keys, APIs, subscriptions, tiers, identity providers, signing keys and the audit trail. The CLI and the ' +
            'developer portal call the same service: the same input gets the same answer. Errors are RFC 9457 problem+json.',
        },
        servers: [{ url: '/' }],
        components: {
          securitySchemes: {
            basic: { type: 'http', scheme: 'basic', description: "a user's name and password" },
            bearer: { type: 'http', scheme: 'bearer', description: 'an access token from /token with scope manage' },
          },
        },
        security: [{ basic: [] }, { bearer: [] }],
      },
    });
    await root.register(swaggerUi, {
      routePrefix: '/api/docs',
      staticCSP: DOCS_CSP,
      uiConfig: { validatorUrl: null, tryItOutEnabled: true } as Record<string, unknown>,
    });

    await root.register(
      async (api) => {
        api.setValidatorCompiler(validators());
        // JSON only (text/plain or a form is 415, not a string the schema then refuses), where an
        // empty body is no body (POST …/publish with Content-Type: application/json and nothing else).
        api.removeAllContentTypeParsers();
        api.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
          if (text === '') return done(null, undefined);
          try {
            done(null, JSON.parse(text as string));
          } catch {
            done(new InvalidInput(undefined, 'The request body is not valid JSON.'), undefined);
          }
        });
        api.setErrorHandler(errorHandler);
        // A path the API serves with other methods is 405 with Allow (RFC 9110 §15.5.6); any other 404.
        const served: { pattern: RegExp; methods: string[] }[] = [];
        api.setNotFoundHandler((request, reply) => {
          const path = request.url.split('?')[0]!;
          const allow = served.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods);
          if (allow.length > 0) {
            return sendProblem(reply, new GatehouseError('invalid', `${path} does not take ${request.method}; it takes ${allow.join(', ')}`, { status: 405 }), { allow: allow.join(', ') });
          }
          return sendProblem(reply, new GatehouseError('not_found', `no operation ${request.method} ${path}`));
        });
        api.addHook('onRoute', (route) => {
          route.bodyLimit ??= API_BODY_LIMIT;
          const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
          if (route.config?.optionalBody && operationId !== undefined) optionalBodies.add(operationId);
          const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}$`);
          const methods = [route.method].flat();
          const known = served.find((r) => r.pattern.source === pattern.source);
          if (known) known.methods.push(...methods);
          else served.push({ pattern, methods: [...methods] });
        });
        api.addHook('onRequest', async (request) => {
          if (request.routeOptions.config.public) return;
          const from = { via: 'rest' as const, address: request.ip };
          if (repeatsAuthorization(request.raw.rawHeaders)) throw new InvalidInput(undefined, ONE_AUTHORIZATION);
          const header = request.headers.authorization;
          if (header === undefined) throw new Unauthenticated('Send credentials: Authorization: Basic (user name and password) or Bearer (a token with scope manage).');
          const basic = basicCredentials(header);
          if (basic) request.actor = await m.signIn.withPassword(basic.username, basic.password, from);
          else if (/^bearer[ \t]+\S+$/i.test(header)) request.actor = await m.signIn.withAccessToken(header.replace(/^bearer[ \t]+/i, ''), from);
          else throw new Unauthenticated('The Authorization header must be Basic or Bearer.');
        });
        api.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(root.swagger()));
        userRoutes(api, m);
        applicationRoutes(api, m);
        apiRoutes(api, m);
        adminRoutes(api, m);
      },
      { prefix: API_PREFIX },
    );
  });
}
