import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthenticatedClient } from './client-auth.js';
import { invalidRequest, OAuthError } from './errors.js';

/**
 * CORS for browser-based apps (single-page apps at their own origin) on the token service.
 *
 * - `/token` (and `/login`), `/revoke` and `/introspect`: per application. An application
 *   registers the origins its pages are served from (`allowedOrigins`, default none). A
 *   preflight carries no client identity, so it is answered for an origin some application
 *   registered; the request itself is then refused (`invalid_request`, before anything is
 *   issued or revoked) unless the origin is one of the authenticated client's. Credentials
 *   (cookies) are never allowed: `Access-Control-Allow-Credentials` is never sent.
 * - The metadata document and the JWKS: readable from any origin (`*`), as they are public.
 * - `/authorize` and its login and consent pages: same-origin only (no CORS headers at all).
 */
export class OriginRegistry {
  private origins: Promise<ReadonlySet<string>> | undefined;
  private loadedAt = 0;

  constructor(
    private readonly load: () => Promise<string[]>,
    private readonly ttlMs: number,
  ) {}

  /** Whether some application registered this origin (cached for `ttlMs`; `forget` drops it). */
  async has(origin: string): Promise<boolean> {
    const now = Date.now();
    if (this.origins === undefined || now - this.loadedAt >= this.ttlMs) {
      this.loadedAt = now;
      const loading = this.load().then((list) => new Set(list));
      // A failed load is not kept: the next request tries again.
      loading.catch(() => {
        if (this.origins === loading) this.origins = undefined;
      });
      this.origins = loading;
    }
    return (await this.origins).has(origin);
  }

  /** An application's origins changed (here or on another node). */
  forget(): void {
    this.origins = undefined;
  }
}

const ALLOWED_HEADERS = 'Authorization, Content-Type';
const EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After';
const MAX_AGE = '600';

/** The request's Origin when it is another origin than the one serving it (else undefined). */
export function crossOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  return origin === `${request.protocol}://${request.host}` ? undefined : origin;
}

/**
 * Registers CORS on the client-authenticated endpoints of this (encapsulated) context:
 * OPTIONS preflights and the response headers of cross-origin requests from registered origins.
 */
export function corsForClients(app: FastifyInstance, urls: readonly string[], registry: OriginRegistry): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = crossOrigin(request);
    if (origin === undefined || request.method === 'OPTIONS' || !urls.includes(request.routeOptions.url ?? '')) return;
    if (await registry.has(origin)) {
      reply.headers({ 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'Origin' });
    }
  });
  for (const url of urls) {
    app.options(url, async (request, reply) => {
      const origin = crossOrigin(request);
      if (origin === undefined || request.headers['access-control-request-method'] === undefined) {
        return reply.code(204).header('allow', 'OPTIONS, POST').send();
      }
      if (!(await registry.has(origin))) {
        const refused = new OAuthError('invalid_request', 'This origin is not allowed to call the token service: register it with the application (allowedOrigins).', 403);
        return reply.code(403).headers({ vary: 'Origin', 'cache-control': 'no-store' }).send(refused.toJSON());
      }
      return reply
        .code(204)
        .headers({
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': MAX_AGE,
          vary: 'Origin',
        })
        .send();
    });
  }
}

/** The authenticated client's own check: a cross-origin request must come from one of its origins. */
export function assertClientOrigin(request: FastifyRequest, client: AuthenticatedClient): void {
  const origin = crossOrigin(request);
  if (origin !== undefined && !client.client.allowedOrigins.includes(origin)) {
    throw invalidRequest('Requests from this origin are not allowed for this client: add it to the application\'s allowed origins.');
  }
}

/** Public documents (metadata, JWKS): any origin may read them, without credentials. */
export function corsForPublic(app: FastifyInstance, url: string): void {
  app.options(url, async (_request, reply) =>
    reply.code(204).headers({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', 'access-control-max-age': MAX_AGE, allow: 'OPTIONS, GET, HEAD' }).send(),
  );
}

export const PUBLIC_CORS = { 'access-control-allow-origin': '*' } as const;
