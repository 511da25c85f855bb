import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeRoutes } from './authorize/routes.js';
import { oauthRoutes } from './routes.js';
import type { OAuthService } from './service.js';
import { opaqueTokens } from './token-format.js';

/** A PostgreSQL error as node-postgres raises it. */
const pgError = (code: string) => Object.assign(new Error(`pg error ${code}`), { code, severity: 'ERROR' });

/** Nothing here reaches the store: only the error handlers of the two route sets are exercised. */
const service = {
  config: { issuer: 'https://issuer.example', authorizationCodeValidity: 300 },
  store: { sessions: {}, codes: {}, consents: {} },
  format: opaqueTokens,
  grants: new Map(),
} as unknown as OAuthService;

describe('error handler backstop for input PostgreSQL refuses', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify({ logger: false });
    await app.register(async (scope) => {
      await oauthRoutes(scope, { service });
      scope.get('/test/oauth/:code', async (request) => {
        throw pgError((request.params as { code: string }).code);
      });
    });
    await app.register(async (scope) => {
      await authorizeRoutes(scope, { service, secure: false });
      scope.get('/authorize/test/:code', async (request) => {
        throw pgError((request.params as { code: string }).code);
      });
    });
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('22021 (invalid byte sequence: a NUL) and 22001 (value too long) are 400 invalid_request at the OAuth endpoints', async () => {
    for (const code of ['22021', '22001']) {
      const r = await app.inject({ method: 'GET', url: `/test/oauth/${code}` });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toEqual({ error: 'invalid_request', error_description: 'A parameter has a value that is too long or not valid text.' });
      expect(r.headers['cache-control']).toBe('no-store');
    }
    const other = await app.inject({ method: 'GET', url: '/test/oauth/40P01' });
    expect(other.statusCode).toBe(500);
    expect(other.json().error).toBe('server_error');
  });

  it('and a 400 page at the authorization pages', async () => {
    for (const code of ['22021', '22001']) {
      const r = await app.inject({ method: 'GET', url: `/authorize/test/${code}` });
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body).toContain('not valid text');
    }
    expect((await app.inject({ method: 'GET', url: '/authorize/test/57P01' })).statusCode).toBe(500);
  });
});

describe('OAuthError descriptions', () => {
  it('keep to RFC 6749 §5.2 characters whatever they are built from', async () => {
    const { OAuthError } = await import('./errors.js');
    const e = new OAuthError('invalid_request', 'say "hi"\\ to\nmé\u0000!');
    expect(e.description).toBe("say 'hi' to m!");
    expect(e.toJSON().error_description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/);
  });
});
