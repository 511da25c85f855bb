import { configurePasswordHashing } from '../crypto/password.js';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { authorizeRoutes } from '../oauth/authorize/routes.js';
import { TokenEvents } from '../oauth/events.js';
import { oauthRoutes } from '../oauth/routes.js';
import { corsForPublic, PUBLIC_CORS } from '../oauth/cors.js';
import { createOAuthService, type OAuthService } from '../oauth/service.js';
import { scheduleCleanup } from '../store/cleanup.js';
import { openStore, type Store } from '../store/index.js';
import { clientErrorHandler, frameworkErrors } from './client-error.js';
import { limitConnections, serverTimeouts } from './connection-limits.js';
import { healthRoutes } from './health.js';
import { portalRoutes } from '../portal/plugin.js';
import type { PortalSettings } from '../portal/kit.js';
import { loadTls, type TlsMaterial } from './tls.js';
import { loadSigningKey, type SigningKey } from './signing-key.js';
import { connectInvalidationBus } from '../cluster/invalidation.js';
import { createGateway, createGatewayMetrics, type Gateway, type GatewayOptions } from '../gateway/index.js';
import { gatewayStore } from './gateway-store.js';
import { Registry } from 'prom-client';
import { processMetrics } from './process-metrics.js';
import { reportDatabaseHealth } from './database-health.js';
import { adminApi } from '../api/plugin.js';
import type { Change } from '../cluster/change.js';
import { ChangeFollower } from '../cluster/follower.js';
import { createManagement, type Management } from '../manage/index.js';

export interface RunningServer {
  config: Config;
  store: Store;
  oauth: OAuthService;
  gateway: Gateway;
  management: Management;
  logger: Logger;
  /** The ports actually bound (differs from config when 0 asked for a free port); http null when off. */
  ports: { portal: number; https: number; http: number | null };
  /** New connections to the HTTPS listeners use this certificate, key and cipher policy (SIGHUP). */
  setTls(tls: TlsMaterial): void;
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
    ...(tls ? { https: { ...tls.serverOptions, ...timeouts } } : { http: timeouts }),
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
  /** True once the node is stopping (readiness turns 503). */
  draining: () => boolean;
}

/** A gateway listener (8243 HTTPS, 8280 HTTP): token service endpoints, then published APIs. */
async function gatewayApp(logger: Logger, listener: string, config: Config, parts: NodeParts, tls?: TlsMaterial): Promise<FastifyInstance> {
  const app = baseApp(logger, listener, config, tls);
  requestLogging(app, logger);
  await app.register(healthRoutes, { db: parts.store.db, draining: parts.draining });
  await app.register(oauthRoutes, { service: parts.oauth });
  await app.register(authorizeRoutes, { service: parts.oauth, secure: tls !== undefined });
  // The keys backends use to verify X-JWT-Assertion headers.
  app.get('/.well-known/jwks.json', async (_req, reply) => reply.headers({ 'cache-control': 'public, max-age=300', ...PUBLIC_CORS }).send(parts.jwks));
  corsForPublic(app, '/.well-known/jwks.json');
  // Last: the catch-all for /{context}/{version}/…; the routes above win over it.
  await app.register(parts.gateway.plugin);
  return app;
}

/** The management listener (9443): the portal, the admin REST API and Prometheus metrics. */
async function portalApp(logger: Logger, registry: Registry, config: Config, tls: TlsMaterial, management: Management, settings: PortalSettings): Promise<FastifyInstance> {
  const app = baseApp(logger, 'portal', config, tls);
  await app.register(portalRoutes, { management, settings });
  await app.register(adminApi, { management });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return app;
}

function gatewayOptions(config: Config, key: SigningKey): GatewayOptions {
  return {
    tiers: config.throttling.tiers,
    tokenCacheTtlSeconds: config.gateway.tokenCacheTtl,
    negativeCacheTtlSeconds: config.gateway.negativeCacheTtl,
    degradedCacheTtlSeconds: config.cluster.degradedCacheTtl,
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
  configurePasswordHashing(config.security.passwordHashing);
  const store = await openStore(config);
  const events = new TokenEvents();
  const oauth = createOAuthService(config, store, events);
  const apps: FastifyInstance[] = [];
  let stopCleanup = () => {};
  let gateway: Gateway | undefined;
  let stopBus = async () => {};
  let follower: ChangeFollower | undefined;
  let draining = false;
  const shutdown = async () => {
    draining = true;
    // Ready answers 503 now; the listeners keep serving until the load balancer has noticed.
    if (apps.length > 0 && config.cluster.drainDelayMs > 0) await new Promise((r) => setTimeout(r, config.cluster.drainDelayMs));
    stopCleanup();
    await follower?.stop();
    await Promise.allSettled(apps.map((a) => a.close()));
    await Promise.allSettled([gateway?.close(), stopBus(), oauth.close()]);
    await store.close();
  };
  try {
    const tls = await loadTls(config);
    for (const warning of tls.warnings) logger.warn({ tls: tls.origin }, warning);
    const signingKey = await loadSigningKey(config.dataDir);
    const registry = new Registry();
    processMetrics(registry);
    reportDatabaseHealth(store.db, registry, logger.child({ component: 'database' }));
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
    if (config.redis.url) {
      // Degraded until subscribed: nothing is cached yet, and a start without Redis serves on.
      gw.invalidationChannel(false);
      const bus = await connectInvalidationBus(config.redis.url, events, {
        log: logger.child({ component: 'cluster' }),
        registry,
        onChannel: (up) => gw.invalidationChannel(up),
        onPeers: (n) => gw.clusterNodes(n),
      });
      stopBus = () => bus.close();
    }
    // A management change (made here, in the CLI or on another node) reaches this node's caches.
    const apply = (change: Change): void => {
      if (change.kind === 'tokens') gw.invalidate(change.invalidation);
      else if (change.kind === 'clients') {
        oauth.clients.forget?.(change.consumerKeys);
        oauth.origins.forget();
      }
      else gw.invalidateApis();
    };
    const management = createManagement({ store, oauth, config, sink: apply });
    follower = new ChangeFollower(store.changes, apply, { pollMs: config.cluster.changePollMs, logger: logger.child({ component: 'cluster' }) });
    await follower.start();
    const parts: NodeParts = { store, oauth, gateway, jwks: { keys: [signingKey.publicJwk] }, draining: () => draining };
    const bound: { http: number | null; https: number } = { http: config.ports.http, https: config.ports.https };
    const issuerHost = new URL(config.oauth.issuer).hostname;
    const portal = await portalApp(logger, registry, config, tls, management, {
      selfSignUp: config.portal.selfSignUp,
      tiers: Object.keys(config.throttling.tiers),
      httpsBase: config.oauth.issuer,
      // Where the original page sends /revoke: the plain-HTTP listener, or HTTPS when it is off.
      httpBase: () => (bound.http === null ? config.oauth.issuer : `http://${issuerHost}:${bound.http}`),
      gatewayForTry: () => (bound.http === null ? `https://127.0.0.1:${bound.https}` : `http://127.0.0.1:${bound.http}`),
    });
    const https = await gatewayApp(logger, 'gateway-https', config, parts, tls);
    const http = config.ports.http === null ? undefined : await gatewayApp(logger, 'gateway-http', config, parts);
    const bind = async (app: FastifyInstance, port: number, host: string): Promise<number> => {
      apps.push(app);
      await app.listen({ port, host });
      const addr = app.server.address();
      return typeof addr === 'object' && addr ? addr.port : port;
    };
    const ports = {
      portal: await bind(portal, config.ports.portal, config.hosts.portal),
      https: await bind(https, config.ports.https, config.hosts.https),
      http: http && config.ports.http !== null ? await bind(http, config.ports.http, config.hosts.http) : null,
    };
    const setTls = (next: TlsMaterial) => {
      for (const app of [portal, https]) (app.server as unknown as TlsServer).setSecureContext(next.serverOptions);
    };
    bound.http = ports.http;
    bound.https = ports.https;
    stopCleanup = scheduleCleanup(store, { ...config.cleanup, retention: { auditDays: config.audit.retentionDays, signInOriginDays: config.security.lockout.knownOriginDays } }, logger);
    logger.info(
      { ports, database: store.db.describe, tls: tls.origin, issuer: config.oauth.issuer, config: config.source ?? '(defaults)' },
      'gatehouse started',
    );
    if ((await store.users.countByRole('admin')) === 0) {
      logger.warn({ event: 'no_admin' }, 'no admin user yet: create one with  gatehouse user add NAME --role admin --password-stdin');
    }
    let closing: Promise<void> | undefined;
    return { config, store, oauth, gateway, management, logger, ports, setTls, close: () => (closing ??= shutdown()) };
  } catch (err) {
    await shutdown();
    throw err;
  }
}
