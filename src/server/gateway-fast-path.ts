import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { FastifyInstance, FastifyServerFactory, HTTPMethods } from 'fastify';
import { NO_HOST_FAULT, writeFault } from '../gateway/faults.js';
import type { Gateway } from '../gateway/index.js';
import { HOST_CHECKED_BY_US, lacksHost } from '../http/host.js';
import { writeNoHostOAuth } from './client-error.js';
import type { TlsMaterial } from './tls.js';

/**
 * The gateway's way past fastify on a gateway listener. A call to a published API is a
 * fastify catch-all route (`/*`) that hijacks the reply and hands the raw request to the
 * gateway: fastify's request and reply objects, router, content-type handling and hijack
 * cost a gateway call ~18 % of its CPU (bench/compare-builds.mjs) and do nothing for it. So
 * the listener's server looks first: a request for none of fastify's own routes (the token
 * service, health, JWKS) goes straight to the gateway, which routes and answers it as it
 * did behind the catch-all. Everything else, and everything once the listener is closing
 * (fastify's 503s), goes to fastify as before; so does a percent-encoded path (fastify's router
 * decodes it before matching). Any method goes the same way: a gateway listener routes every
 * method Node parses (`routeEveryMethod`), and the gateway refuses those it does not proxy.
 */
export interface FastPath {
  /** Set once every route is registered; until then every request goes to fastify. */
  take?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Set with `take`: whether a request for this method and path is a published API's (none of fastify's own routes). */
  isApiTarget?: (method: string, path: string) => boolean;
}

/**
 * The methods Node's HTTP parser accepts beyond fastify's own (WebDAV's, PURGE, M-SEARCH, …;
 * CONNECT never reaches a request handler). Fastify answered them with its own 404 body.
 */
const OTHER_METHODS = [
  'ACL', 'BIND', 'CHECKOUT', 'COPY', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY',
  'PROPFIND', 'PROPPATCH', 'PURGE', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE',
];

/**
 * Makes a gateway listener route every method, so that each request gets the answer of the
 * path it names: the token service's RFC 6749 405 on its URLs, the gateway's fault everywhere
 * else (its catch-all covers every method the app knows). Call before any route is added.
 * QUERY (RFC 10008) is a body method to fastify, which refuses one without Content-Type in its
 * own format before any handler runs; nothing here serves QUERY, so it is routed like the
 * others, without reading a body.
 */
export function routeEveryMethod(app: FastifyInstance): void {
  for (const m of OTHER_METHODS) if (http.METHODS.includes(m) && !app.supportedMethods.includes(m)) app.addHttpMethod(m);
  if (app.supportedMethods.includes('QUERY')) app.addHttpMethod('QUERY', { hasBody: false, overrideExisting: true });
}

/** A fastify serverFactory making the server fastify would make, with the fast path in front. */
export function fastPathServer(fast: FastPath, tls: TlsMaterial | undefined, timeouts: object): FastifyServerFactory {
  return (handler, options) => {
    const opts = options as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; maxRequestsPerSocket?: number };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if (fast.take === undefined || !fast.take(req, res)) handler(req, res);
    };
    // Without Host, a request is answered 400 in its path's format by `take` (not Node's empty 400).
    const server = tls ? https.createServer({ ...tls.serverOptions, ...timeouts, ...HOST_CHECKED_BY_US }, onRequest) : http.createServer({ ...timeouts, ...HOST_CHECKED_BY_US }, onRequest);
    // What fastify does to the servers it makes itself (lib/server.js).
    if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
    if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout;
    if (opts.connectionTimeout !== undefined) server.setTimeout(opts.connectionTimeout);
    if (opts.maxRequestsPerSocket !== undefined && opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
    return server;
  };
}

const CLOSE = ['connection', 'close'] as const;

/** Arms the fast path of `app` (call once its routes, the gateway's catch-all last, are in). */
export function armFastPath(fast: FastPath, app: FastifyInstance, gateway: Pick<Gateway, 'handle'>): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const ownRoute = (method: string, path: string): boolean => {
    try {
      return app.hasRoute({ method: method as HTTPMethods, url: path });
    } catch {
      return false; // a method the router has never heard of (a refused request's)
    }
  };
  // By path alone: a refused request's method may be one no router knows, and every method
  // Node parses is routed on the token service's paths (routeEveryMethod).
  fast.isApiTarget = (_method, path) => !ownRoute('GET', path) && !ownRoute('POST', path);
  fast.take = (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (lacksHost(req)) {
      if (ownRoute(req.method!, path)) writeNoHostOAuth(res);
      else writeFault(req, res, NO_HOST_FAULT, CLOSE);
      return true;
    }
    if (closing) return false;
    if (path.includes('%') || ownRoute(req.method!, path)) return false;
    gateway.handle(req, res);
    return true;
  };
}
