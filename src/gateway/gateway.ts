import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { GatewayCore, type GatewayDeps } from './pipeline.js';
import type { TokenInvalidation } from './types.js';

export type { GatewayDeps };

/** What `createGateway` returns. One per process: share it between the 8243 and 8280 listeners. */
export interface Gateway {
  /**
   * Fastify plugin: `await app.register(gw.plugin)`. It creates its own encapsulated
   * child context (pass-through body parser, `ALL /*` route), so static routes such
   * as /token, /revoke and /.well-known/* registered anywhere on the same instance
   * keep winning over it. It does not close the gateway on app close: call `close()`.
   */
  readonly plugin: (app: FastifyInstance) => Promise<void>;
  /** Drops cached validations by key, grant or owner, at once. Returns how many entries went. */
  invalidate(msg: TokenInvalidation): number;
  /** Drops the published-API and subscription caches (e.g. after an API or subscription change). */
  invalidateApis(): void;
  /**
   * The cluster's invalidation channel went down (false: cached validations are served only
   * while younger than degradedCacheTtlSeconds) or is back (true: every cached validation is dropped).
   */
  invalidationChannel(up: boolean): void;
  /** How many nodes share the throttling limits: while Redis is down each node admits limit / nodes. */
  clusterNodes(n: number): void;
  /** Raw node handler, for use without fastify (tests, benches). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Resolves when the throttling backend is usable (waits ≤ 2 s for Redis, then fails open). */
  ready(): Promise<void>;
  /** Closes backend pools (in-flight requests are cut after 5 s) and the Redis connection. */
  close(): Promise<void>;
}

/** No-op body parser: the body stays unread on the raw request and is streamed to the backend. */
function passThrough(_req: unknown, _payload: unknown, done: (err: Error | null, body?: unknown) => void): void {
  done(null);
}

/**
 * Creates the gateway: caches, throttler, backend pools, and the fastify plugin.
 *
 *   const gw = createGateway({ store, tokenKey, options, metrics, logger });
 *   await app.register(gw.plugin);   // after the node's own routes
 *   gw.invalidate(msg);              // from the node's revocation events
 *   await gw.close();                // on shutdown
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const core = new GatewayCore(deps);
  const handler = (request: { raw: IncomingMessage }, reply: { hijack(): unknown; raw: ServerResponse }): void => {
    reply.hijack();
    core.handle(request.raw, reply.raw);
  };
  const plugin = async (app: FastifyInstance): Promise<void> => {
    await core.ready();
    await app.register(async (child) => {
      child.removeAllContentTypeParsers();
      child.addContentTypeParser('*', passThrough);
      child.all('/*', handler);
    });
  };
  return {
    plugin,
    invalidate: (msg) => core.tokens.invalidate(msg),
    invalidateApis: () => core.invalidateApis(),
    invalidationChannel: (up) => core.invalidationChannel(up),
    clusterNodes: (n) => core.clusterNodes(n),
    handle: (req, res) => core.handle(req, res),
    ready: () => core.ready(),
    close: () => core.close(),
  };
}
