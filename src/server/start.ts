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
import { SERVING_BUSY_TIMEOUT_MS } from '../store/db.js';
import { MAX_PATH_PARAMETER } from '../api/problem.js';
import {
  answerConnect, clientErrorHandler, frameworkErrors, portalClientErrorHandler, portalFrameworkErrors, rejectWithoutHost, textClientErrorHandler, textFrameworkErrors, textAnswers, trackRequestTargets,
} from './client-error.js';
import { HOST_CHECKED_BY_US } from '../http/host.js';
import { limitConnections, serverTimeouts } from './connection-limits.js';
import { healthRoutes } from './health.js';
import { portalRoutes } from '../portal/plugin.js';
import type { PortalSettings } from '../portal/kit.js';
import { loadTls, type TlsMaterial } from './tls.js';
import { JWKS_MAX_AGE_SECONDS, keysSecret, SigningKeyRing } from '../cluster/signing-keys.js';
import { nowSeconds } from '../clock.js';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { connectInvalidationBus } from '../cluster/invalidation.js';
import { createGateway, createGatewayMetrics, type Gateway, type GatewayOptions } from '../gateway/index.js';
import { gatewayStore } from './gateway-store.js';
import { armFastPath, fastPathServer, routeEveryMethod, type FastPath } from './gateway-fast-path.js';
import { Registry } from 'prom-client';
import { processMetrics } from './process-metrics.js';
import { reportDatabaseHealth } from './database-health.js';
import { metricsRoute } from './metrics-endpoint.js';
import { warnUnknownTiers } from './tier-check.js';
import { createTokenMetrics } from '../oauth/metrics.js';
import { fingerprintKey, SecurityLog } from '../security-events.js';
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
  /** The ports actually bound (differs from config when 0 asked for a free port); http null when off, metrics unless metrics.listen. */
  ports: { portal: number; https: number; http: number | null; metrics: number | null };
  /** New connections to the HTTPS listeners use this certificate, key and cipher policy (SIGHUP). */
  setTls(tls: TlsMaterial): void;
  /** Turns /health/ready 503 while everything else keeps serving (the first step of a stop). */
  drain(): void;
  close(): Promise<void>;
}

function baseApp(logger: Logger, listener: string, config: Config, tls?: TlsMaterial, fast?: FastPath): FastifyInstance {
  const timeouts = serverTimeouts(config.listeners);
  const ownHostCheck = listener === 'portal' || listener === 'metrics';
  const app = Fastify({
    loggerInstance: logger.child({ listener }),
    // No per-request info lines (the hot paths stay lean); see requestLogging() for debug level.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 65536,
    return503OnClosing: true,
    keepAliveTimeout: config.listeners.keepAliveTimeoutMs,
    requestTimeout: timeouts.requestTimeout,
    // Refusals before any route: in the format of the listener (and, on the portal's, of the path).
    clientErrorHandler:
      listener === 'portal' ? portalClientErrorHandler : listener === 'metrics' ? textClientErrorHandler : clientErrorHandler((method, path) => fast?.isApiTarget?.(method, path) ?? false),
    frameworkErrors: listener === 'portal' ? portalFrameworkErrors : listener === 'metrics' ? textFrameworkErrors : frameworkErrors,
    // The portal's pages and the admin API name users in the path: every username must route.
    ...(listener === 'portal' ? { routerOptions: { maxParamLength: MAX_PATH_PARAMETER } } : {}),
    // The portal and metrics listeners answer a request without Host themselves (rejectWithoutHost), in their format.
    ...(tls ? { https: { ...tls.serverOptions, ...timeouts, ...(ownHostCheck ? HOST_CHECKED_BY_US : {}) } } : { http: { ...timeouts, ...(ownHostCheck ? HOST_CHECKED_BY_US : {}) } }),
    ...(fast ? { serverFactory: fastPathServer(fast, tls, timeouts) } : {}),
  }) as unknown as FastifyInstance;
  limitConnections(app.server, config, logger.child({ listener }));
  if (listener === 'portal') trackRequestTargets(app.server, tls !== undefined);
  if (ownHostCheck) rejectWithoutHost(app, listener === 'portal' ? 'portal' : 'text');
  answerConnect(app.server, listener === 'portal' ? 'portal' : listener === 'metrics' ? 'text' : 'gateway', (method, path) => fast?.isApiTarget?.(method, path) ?? false);
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
  /** log.access: the logger of access lines (info, whatever log.level says); undefined when off. */
  accessLog: Logger | undefined;
  /** Whether the node is stopping (/health/ready answers 503). */
  draining: () => boolean;
  /** The published signing keys now (the same on every node sharing the database). */
  jwks: () => { keys: object[] };
}

/** A gateway listener (8243 HTTPS, 8280 HTTP): token service endpoints, then published APIs. */
async function gatewayApp(logger: Logger, listener: string, config: Config, parts: NodeParts, tls?: TlsMaterial): Promise<FastifyInstance> {
  const fast: FastPath = {};
  const app = baseApp(logger, listener, config, tls, fast);
  // Every method Node parses is routed: a PROPFIND or a QUERY gets the answer of the path it names.
  routeEveryMethod(app);
  requestLogging(app, logger);
  await app.register(healthRoutes, { db: parts.store.db, draining: parts.draining });
  await app.register(oauthRoutes, { service: parts.oauth, accessLog: parts.accessLog?.child({ listener }) });
  await app.register(authorizeRoutes, { service: parts.oauth, secure: tls !== undefined });
  // The keys backends use to verify X-JWT-Assertion headers.
  app.get('/.well-known/jwks.json', async (_req, reply) => reply.headers({ 'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`, ...PUBLIC_CORS }).send(parts.jwks()));
  corsForPublic(app, '/.well-known/jwks.json');
  // Last: the catch-all for /{context}/{version}/…; the routes above win over it.
  await app.register(parts.gateway.plugin);
  // Only a method fastify cannot route reaches this (the catch-all takes every path): the gateway answers it.
  app.setNotFoundHandler((request, reply) => {
    reply.hijack();
    parts.gateway.handle(request.raw, reply.raw);
  });
  armFastPath(fast, app, parts.gateway);
  return app;
}

/** The management listener (9443): the portal, the admin REST API and Prometheus metrics. */
async function portalApp(logger: Logger, registry: Registry, config: Config, tls: TlsMaterial, management: Management, settings: PortalSettings): Promise<FastifyInstance> {
  const app = baseApp(logger, 'portal', config, tls);
  await app.register(portalRoutes, { management, settings });
  await app.register(adminApi, { management });
  if (config.ports.metrics === null) metricsRoute(app, registry, config.metrics.token);
  return app;
}

function gatewayOptions(config: Config, ring: SigningKeyRing): GatewayOptions {
  return {
    tiers: config.throttling.tiers,
    tokenCacheTtlSeconds: config.gateway.tokenCacheTtl,
    tokenCacheBytes: config.gateway.tokenCacheMegabytes * 2 ** 20,
    negativeCacheTtlSeconds: config.gateway.negativeCacheTtl,
    degradedCacheTtlSeconds: config.cluster.degradedCacheTtl,
    apiCacheTtlSeconds: config.gateway.apiCacheTtl,
    defaultTimeoutMs: config.gateway.backendTimeoutMs,
    ...(config.redis.url ? { redisUrl: config.redis.url } : {}),
    trustedProxies: config.gateway.trustedProxies,
    // Read at every signing: a rotation (from the change feed) changes them for the next assertion.
    jwt: {
      get privateKey() {
        return ring.current.privateKey;
      },
      get kid() {
        return ring.current.kid;
      },
      alg: 'ES256',
      issuer: config.oauth.issuer,
      ttlSeconds: config.gateway.jwtTtl,
    },
  };
}

/** Starts every listener of one node on the configured (offset) ports. */
export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  configurePasswordHashing(config.security.passwordHashing);
  const store = await openStore(config);
  const events = new TokenEvents();
  const registry = new Registry();
  processMetrics(registry, () => store.db.pool());
  reportDatabaseHealth(store.db, registry, logger.child({ component: 'database' }));
  const tokenMetrics = createTokenMetrics(registry);
  const security = new SecurityLog(logger.child({ component: 'security' }), (event, reason) => tokenMetrics.security(event, reason));
  const oauth = createOAuthService(config, store, events, { security, metrics: tokenMetrics });
  // Access lines are asked for explicitly: written at info even when log.level is higher.
  const accessLog = config.log.access ? logger.child({ component: 'access' }, { level: 'info' }) : undefined;
  const apps: FastifyInstance[] = [];
  let stopCleanup = async () => {};
  let gateway: Gateway | undefined;
  let stopBus = async () => {};
  let follower: ChangeFollower | undefined;
  let ring: SigningKeyRing | undefined;
  let draining = false;
  const shutdown = async () => {
    await stopCleanup();
    await follower?.stop();
    ring?.close();
    await Promise.allSettled(apps.map((a) => a.close()));
    await Promise.allSettled([gateway?.close(), stopBus(), oauth.close()]);
    await store.close();
  };
  try {
    const tls = await loadTls(config);
    for (const warning of tls.warnings) logger.warn({ tls: tls.origin }, warning);
    const secret = keysSecret(config);
    // Unknown client ids and usernames are logged as fingerprints under a key every node shares.
    security.useFingerprintKey(fingerprintKey(secret.kek));
    if (secret.origin === 'generated' && store.db.dialect === 'postgres') {
      logger.warn({ event: 'keys_secret_generated', file: secret.file }, 'the signing keys are encrypted with a secret made in this data directory: every other node on this database needs the same one (set keys.secret / GATEHOUSE_KEYS_SECRET, or keys.secretFile, on every node)');
    }
    const keys = await SigningKeyRing.open(store, secret.kek, { now: nowSeconds(), legacyPemFile: path.join(config.dataDir, 'keys', 'jwt-signing-key.pem'), log: logger.child({ component: 'keys' }) });
    ring = keys;
    gateway = createGateway({
      store: gatewayStore(store),
      tokenKey: oauth.format.key,
      options: gatewayOptions(config, keys),
      metrics: createGatewayMetrics(registry),
      logger: logger.child({ component: 'gateway' }),
      accessLog: accessLog?.child({ listener: 'gateway' }),
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
      else if (change.kind === 'signingKeys') void keys.reload();
      else gw.invalidateApis();
    };
    const management = createManagement({ store, oauth, config, sink: apply, kek: () => secret.kek });
    follower = new ChangeFollower(store.changes, apply, { pollMs: config.cluster.changePollMs, logger: logger.child({ component: 'cluster' }) });
    await follower.start();
    const parts: NodeParts = { store, oauth, gateway, jwks: () => keys.jwks(nowSeconds()), draining: () => draining, accessLog };
    const bound: { http: number | null; https: number } = { http: config.ports.http, https: config.ports.https };
    const issuerHost = new URL(config.oauth.issuer).hostname;
    const portal = await portalApp(logger, registry, config, tls, management, {
      selfSignUp: config.portal.selfSignUp,
      tryItTimeoutMs: config.portal.tryItTimeoutMs,
      httpsBase: config.oauth.issuer,
      // Where the original page sends /revoke: the plain-HTTP listener, or HTTPS when it is off.
      httpBase: () => (bound.http === null ? config.oauth.issuer : `http://${issuerHost}:${bound.http}`),
      // The HTTPS listener, as the URL the page shows: the backend sees the forwarding headers a client's call gives.
      gatewayForTry: () => `https://127.0.0.1:${bound.https}`,
    });
    const https = await gatewayApp(logger, 'gateway-https', config, parts, tls);
    const http = config.ports.http === null ? undefined : await gatewayApp(logger, 'gateway-http', config, parts);
    let metricsApp: FastifyInstance | undefined;
    if (config.ports.metrics !== null) {
      metricsApp = baseApp(logger, 'metrics', config);
      metricsRoute(metricsApp, registry, config.metrics.token);
      textAnswers(metricsApp, 'GET /metrics');
    }
    // Serving from here on: a write blocked by another process's SQLite lock (the CLI, a sqlite3
    // shell) holds the event loop for at most this long before its 503 (migrations and the
    // start-up writes above waited up to BUSY_TIMEOUT_MS).
    store.db.setBusyTimeout(SERVING_BUSY_TIMEOUT_MS);
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
      metrics: metricsApp && config.ports.metrics !== null ? await bind(metricsApp, config.ports.metrics, config.hosts.metrics!) : null,
    };
    const setTls = (next: TlsMaterial) => {
      for (const app of [portal, https]) (app.server as unknown as TlsServer).setSecureContext(next.serverOptions);
    };
    bound.http = ports.http;
    bound.https = ports.https;
    stopCleanup = scheduleCleanup(store, { ...config.cleanup, holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, retention: { auditDays: config.audit.retentionDays, signInOriginDays: config.security.lockout.knownOriginDays } }, logger);
    await warnUnknownTiers(store.apis, config.throttling.tiers, logger).catch((err: unknown) => logger.warn({ err }, 'could not check the tiers in use at start'));
    logger.info(
      { ports, database: store.db.describe, tls: tls.origin, issuer: config.oauth.issuer, config: config.source ?? '(defaults)' },
      'gatehouse started',
    );
    if ((await store.users.countByRole('admin')) === 0) {
      logger.warn({ event: 'no_admin' }, 'no admin user yet: create one with `npx gatehouse user add NAME --role admin --password-stdin` (in the repository; see README "CLI" elsewhere)');
    }
    let closing: Promise<void> | undefined;
    return {
      config,
      store,
      oauth,
      gateway,
      management,
      logger,
      ports,
      setTls,
      drain: () => {
        draining = true;
      },
      close: () => {
        draining = true;
        return (closing ??= shutdown());
      },
    };
  } catch (err) {
    await shutdown();
    throw err;
  }
}
