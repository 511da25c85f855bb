import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { authorizeRoutes } from '../oauth/authorize/routes.js';
import { TokenEvents } from '../oauth/events.js';
import { oauthRoutes } from '../oauth/routes.js';
import { createOAuthService, type OAuthService } from '../oauth/service.js';
import { scheduleCleanup } from '../store/cleanup.js';
import { openStore, type Store } from '../store/index.js';
import { clientErrorHandler, frameworkErrors } from './client-error.js';
import { limitConnections, serverTimeouts } from './connection-limits.js';
import { healthRoutes } from './health.js';
import { portalRoutes } from './portal.js';
import { loadTls, type TlsMaterial } from './tls.js';
import { loadSigningKey, type SigningKey } from './signing-key.js';
import { connectInvalidationBus } from '../cluster/invalidation.js';
import { createGateway, createGatewayMetrics, type Gateway, type GatewayOptions } from '../gateway/index.js';
import { gatewayStore } from './gateway-store.js';
import { Registry } from 'prom-client';
import { processMetrics } from './process-metrics.js';

export interface RunningServer {
  config: Config;
  store: Store;
  oauth: OAuthService;
  gateway: Gateway;
  logger: Logger;
  /** The ports actually bound (differs from config when 0 asked for a free port). */
  ports: { portal: number; https: number; http: number };
  close(): Promise<void>;
}

function baseApp(logger: Logger, listener: string, config: Config, tls?: TlsMaterial): FastifyInstance {
  const timeouts = serverTimeouts(config.listeners);
  const app = Fastify({
    loggerInstance: logger.child({ listener }),
    // No per-request info lines (the hot paths stay lean); see requestLogging() for debug level.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 65536,
    return503OnClosing: true,
    keepAliveTimeout: config.listeners.keepAliveTimeoutMs,
    requestTimeout: timeouts.requestTimeout,
    clientErrorHandler,
    frameworkErrors,
    ...(tls ? { https: { cert: tls.cert, key: tls.key, ...timeouts } } : { http: timeouts }),
  }) as unknown as FastifyInstance;
  limitConnections(app.server, config, logger.child({ listener }));
  // Fastify makes a child logger (with a request id) for every request; above debug level
  // nothing logs per request, so the listener's logger serves and the hot path saves the work.
  if (!logger.isLevelEnabled('debug')) app.setChildLoggerFactory((parent) => parent);
  return app;
}

/** At debug level, one line per response: method, route, status, time. Never headers or bodies. */
function requestLogging(app: FastifyInstance, logger: Logger): void {
  if (!logger.isLevelEnabled('debug')) return;
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    done();
  });
}

/** What one node's listeners share: the data layer, the authorization server and the gateway. */
interface NodeParts {
  store: Store;
  oauth: OAuthService;
  gateway: Gateway;
  jwks: { keys: object[] };
}

/** A gateway listener (8243 HTTPS, 8280 HTTP): token service endpoints, then published APIs. */
async function gatewayApp(logger: Logger, listener: string, config: Config, parts: NodeParts, tls?: TlsMaterial): Promise<FastifyInstance> {
  const app = baseApp(logger, listener, config, tls);
  requestLogging(app, logger);
  await app.register(healthRoutes, { db: parts.store.db });
  await app.register(oauthRoutes, { service: parts.oauth });
  await app.register(authorizeRoutes, { service: parts.oauth, secure: tls !== undefined });
  // The keys backends use to verify X-JWT-Assertion headers.
  app.get('/.well-known/jwks.json', async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(parts.jwks));
  // Last: the catch-all for /{context}/{version}/…; the routes above win over it.
  await app.register(parts.gateway.plugin);
  return app;
}

/** The management listener (9443): the portal page and Prometheus metrics. */
async function portalApp(logger: Logger, registry: Registry, config: Config, tls: TlsMaterial): Promise<FastifyInstance> {
  const app = baseApp(logger, 'portal', config, tls);
  await app.register(portalRoutes);
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return app;
}

function gatewayOptions(config: Config, key: SigningKey): GatewayOptions {
  return {
    tiers: config.throttling.tiers,
    tokenCacheTtlSeconds: config.gateway.tokenCacheTtl,
    negativeCacheTtlSeconds: config.gateway.negativeCacheTtl,
    apiCacheTtlSeconds: config.gateway.apiCacheTtl,
    defaultTimeoutMs: config.gateway.backendTimeoutMs,
    ...(config.redis.url ? { redisUrl: config.redis.url } : {}),
    trustedProxies: config.gateway.trustedProxies,
    jwt: { privateKey: key.privateKey, kid: key.kid, alg: key.alg, issuer: config.oauth.issuer, ttlSeconds: config.gateway.jwtTtl },
  };
}

/** Starts every listener of one node on the configured (offset) ports. */
export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const store = await openStore(config);
  const events = new TokenEvents();
  const oauth = createOAuthService(config, store, events);
  const apps: FastifyInstance[] = [];
  let stopCleanup = () => {};
  let gateway: Gateway | undefined;
  let stopBus = async () => {};
  const shutdown = async () => {
    stopCleanup();
    await Promise.allSettled(apps.map((a) => a.close()));
    await Promise.allSettled([gateway?.close(), stopBus(), oauth.close()]);
    await store.close();
  };
  try {
    const tls = await loadTls(config);
    const signingKey = await loadSigningKey(config.dataDir);
    const registry = new Registry();
    processMetrics(registry);
    gateway = createGateway({
      store: gatewayStore(store),
      tokenKey: oauth.format.key,
      options: gatewayOptions(config, signingKey),
      metrics: createGatewayMetrics(registry),
      logger: logger.child({ component: 'gateway' }),
    });
    const gw = gateway;
    // A revocation on this node drops the gateway's cached validations at once; with Redis,
    // so does one on any other node.
    events.onInvalidated((msg) => gw.invalidate(msg));
    if (config.redis.url) stopBus = await connectInvalidationBus(config.redis.url, events, logger);
    const parts: NodeParts = { store, oauth, gateway, jwks: { keys: [signingKey.publicJwk] } };
    const portal = await portalApp(logger, registry, config, tls);
    const https = await gatewayApp(logger, 'gateway-https', config, parts, tls);
    const http = await gatewayApp(logger, 'gateway-http', config, parts);
    const host = config.listeners.host;
    const bind = async (app: FastifyInstance, port: number): Promise<number> => {
      apps.push(app);
      await app.listen({ port, host });
      const addr = app.server.address();
      return typeof addr === 'object' && addr ? addr.port : port;
    };
    const ports = {
      portal: await bind(portal, config.ports.portal),
      https: await bind(https, config.ports.https),
      http: await bind(http, config.ports.http),
    };
    stopCleanup = scheduleCleanup(store, config.cleanup, logger);
    logger.info(
      { ports, database: store.db.describe, tls: tls.origin, issuer: config.oauth.issuer, config: config.source ?? '(defaults)' },
      'gatehouse started',
    );
    let closing: Promise<void> | undefined;
    return { config, store, oauth, gateway, logger, ports, close: () => (closing ??= shutdown()) };
  } catch (err) {
    await shutdown();
    throw err;
  }
}
