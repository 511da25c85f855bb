import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { authorizeRoutes } from '../oauth/authorize/routes.js';
import { TokenEvents } from '../oauth/events.js';
import { oauthRoutes } from '../oauth/routes.js';
import { createOAuthService, type OAuthService } from '../oauth/service.js';
import { scheduleCleanup } from '../store/cleanup.js';
import { openStore, type Store } from '../store/index.js';
import { clientErrorHandler } from './client-error.js';
import { healthRoutes } from './health.js';
import { portalRoutes } from './portal.js';
import { loadTls, type TlsMaterial } from './tls.js';

export interface RunningServer {
  config: Config;
  store: Store;
  oauth: OAuthService;
  logger: Logger;
  /** The ports actually bound (differs from config when 0 asked for a free port). */
  ports: { portal: number; https: number; http: number };
  close(): Promise<void>;
}

function baseApp(logger: Logger, listener: string, tls?: TlsMaterial): FastifyInstance {
  return Fastify({
    loggerInstance: logger.child({ listener }),
    // No per-request info lines (the hot paths stay lean); see requestLogging() for debug level.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 65536,
    return503OnClosing: true,
    keepAliveTimeout: 72_000,
    requestTimeout: 120_000,
    clientErrorHandler,
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
  }) as unknown as FastifyInstance;
}

/** At debug level, one line per response: method, route, status, time. Never headers or bodies. */
function requestLogging(app: FastifyInstance, logger: Logger): void {
  if (!logger.isLevelEnabled('debug')) return;
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    done();
  });
}

async function gatewayApp(logger: Logger, listener: string, store: Store, oauth: OAuthService, tls?: TlsMaterial): Promise<FastifyInstance> {
  const app = baseApp(logger, listener, tls);
  requestLogging(app, logger);
  await app.register(healthRoutes, { db: store.db });
  await app.register(oauthRoutes, { service: oauth });
  await app.register(authorizeRoutes, { service: oauth, secure: tls !== undefined });
  return app;
}

/** Starts every listener of one node on the configured (offset) ports. */
export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const store = await openStore(config);
  const events = new TokenEvents();
  const oauth = createOAuthService(config, store, events);
  const apps: FastifyInstance[] = [];
  let stopCleanup = () => {};
  try {
    const tls = await loadTls(config);
    const portal = baseApp(logger, 'portal', tls);
    await portal.register(portalRoutes);
    const https = await gatewayApp(logger, 'gateway-https', store, oauth, tls);
    const http = await gatewayApp(logger, 'gateway-http', store, oauth);
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
    return {
      config,
      store,
      oauth,
      logger,
      ports,
      close: () =>
        (closing ??= (async () => {
          stopCleanup();
          await Promise.allSettled(apps.map((a) => a.close()));
          await store.close();
        })()),
    };
  } catch (err) {
    stopCleanup();
    await Promise.allSettled(apps.map((a) => a.close()));
    await store.close();
    throw err;
  }
}
