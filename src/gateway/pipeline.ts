import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { GatehouseError, worthLogging } from '../errors.js';
import { BackendPools } from './backends.js';
import { DeadlineList } from './deadlines.js';
import { ClientAbortedError, Exchange, onHeadersTimeout, type ExchangeOwner } from './exchange.js';
import {
  BACKEND_TIMEOUT, BACKEND_UNREACHABLE, BAD_TARGET, DOT_SEGMENTS, DUPLICATE_HOST, INTERNAL_ERROR, INVALID_CREDENTIALS,
  MALFORMED_CREDENTIALS, METHOD_NOT_ALLOWED, MISSING_CREDENTIALS, PROXIED_METHODS, STORE_RETRY_AFTER, STORE_UNAVAILABLE, THROTTLED, forbidden, hasBody, notFound, writeFault, type GatewayFault,
} from './faults.js';
import { extractBearer, forwardHeaders, MALFORMED } from './headers.js';
import { REPEATED_AUTHORIZATION, REPEATED_HOST, repeatedHeaders } from '../http/repeated-headers.js';
import { TrustedProxies } from './proxies.js';
import { hasDotSegment, validTarget } from './target.js';
import { AssertionSigner } from './jwt.js';
import { RateLimitedLog } from './log.js';
import { MetricsCache, type GatewayMetrics } from './metrics.js';
import { TierTable, validateOptions } from './options.js';
import { ApiRoutes, type ApiEntry } from './routing.js';
import { Subscriptions, type Binding } from './subscriptions.js';
import { MemoryThrottler, RedisThrottler, type Throttler } from './throttle.js';
import { TokenValidationCache, type TokenEntry } from './token-cache.js';
import type { GatewayApi, GatewayOptions, GatewayStore } from './types.js';

export interface GatewayDeps {
  store: GatewayStore;
  /**
   * The token format's lookup key (e.g. SHA-256 as base64url): the gateway caches validations
   * under it and asks the store by it, and invalidation messages name tokens by it.
   */
  tokenKey: (token: string) => string;
  options: GatewayOptions;
  metrics: GatewayMetrics;
  logger?: Logger | undefined;
  /** log.access: one info line per request here (off by default: the hot path writes nothing). */
  accessLog?: Logger | undefined;
}

/**
 * The request pipeline: check (method, target) → route → authenticate (token cache, store on a miss) → authorize
 * (subscription, cached per token × API) → admit (throttling) → sign (X-JWT-Assertion) →
 * forward (undici), each step a method that continues synchronously when its answer is
 * cached and through a promise only when it is not.
 */
export class GatewayCore implements ExchangeOwner {
  readonly tokens: TokenValidationCache;
  readonly routes: ApiRoutes;
  readonly subscriptions: Subscriptions;
  readonly throttler: Throttler;
  private readonly degradedTtlMs: number;
  private readonly tokenKey: (token: string) => string;
  private readonly log: RateLimitedLog;
  private readonly metrics: MetricsCache;
  private readonly tiers: TierTable;
  private readonly backends: BackendPools;
  private readonly defaultTimeoutMs: number;
  private readonly signer: AssertionSigner | undefined;
  private readonly trusted: TrustedProxies;
  private readonly accessLog: Logger | undefined;
  /** One deadline list per backend timeout value in use. */
  private readonly deadlines = new Map<number, DeadlineList>();

  constructor(deps: GatewayDeps) {
    const o = deps.options;
    validateOptions(o);
    this.tiers = new TierTable(o.tiers);
    this.tokenKey = deps.tokenKey;
    this.log = new RateLimitedLog(deps.logger);
    this.metrics = new MetricsCache(deps.metrics);
    this.defaultTimeoutMs = o.defaultTimeoutMs;
    this.backends = new BackendPools(Math.min(o.defaultTimeoutMs, 10_000), this.log);
    this.signer = o.jwt === undefined ? undefined : new AssertionSigner(o.jwt, this.log);
    this.trusted = new TrustedProxies(o.trustedProxies ?? []);
    this.accessLog = deps.accessLog;
    const apiTtlMs = o.apiCacheTtlSeconds * 1000;
    this.tokens = new TokenValidationCache(deps.store, { ttlSeconds: o.tokenCacheTtlSeconds, negativeTtlSeconds: o.negativeCacheTtlSeconds, maxBytes: o.tokenCacheBytes });
    this.tokens.listener = this.metrics;
    this.degradedTtlMs = (o.degradedCacheTtlSeconds ?? 5) * 1000;
    this.routes = new ApiRoutes(deps.store, apiTtlMs, (api) => this.makeApiEntry(api));
    this.subscriptions = new Subscriptions(deps.store, apiTtlMs, this.tiers, this.log);
    this.throttler = o.redisUrl !== undefined && o.redisUrl !== '' ? new RedisThrottler(o.redisUrl, { log: this.log }) : new MemoryThrottler();
  }

  // ---------------------------------------------------------------- pipeline

  handle(req: IncomingMessage, res: ServerResponse): void {
    const ex = new Exchange(this, req, res);
    try {
      this.route(ex);
    } catch (err) {
      this.internal(ex, err);
    }
  }

  private route(ex: Exchange): void {
    if (!PROXIED_METHODS.has(ex.req.method!)) return this.fault(ex, METHOD_NOT_ALLOWED);
    const url = ex.req.url ?? '/';
    if (!validTarget(url)) return this.fault(ex, BAD_TARGET);
    const repeated = repeatedHeaders(ex.req.rawHeaders);
    if (repeated & REPEATED_HOST) return this.fault(ex, DUPLICATE_HOST);
    // Two credentials: which one counts would depend on who reads them (RFC 6750 §3.1).
    if (repeated & REPEATED_AUTHORIZATION) return this.fault(ex, MALFORMED_CREDENTIALS);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (hasDotSegment(path)) return this.fault(ex, DOT_SEGMENTS);
    const r = this.routes.resolve(ex, path, ex.now);
    if (r === true) return this.authenticate(ex);
    if (r === false) return this.fault(ex, notFound(path));
    r.then((found) => {
      ex.now = Date.now();
      if (found) this.authenticate(ex);
      else this.fault(ex, notFound(path));
    }, (err: unknown) => this.storeFailed(ex, err));
  }

  private authenticate(ex: Exchange): void {
    const token = extractBearer(ex.req.headers.authorization);
    if (token === undefined) return this.fault(ex, MISSING_CREDENTIALS);
    if (token === MALFORMED) return this.fault(ex, MALFORMED_CREDENTIALS);
    const key = this.tokenKey(token);
    const hit = this.tokens.peek(key, ex.now);
    if (hit === null) return this.fault(ex, INVALID_CREDENTIALS);
    if (hit !== undefined) return this.authorize(ex, hit);
    this.tokens.load(key).then((entry) => {
      ex.now = Date.now();
      if (entry === null) this.fault(ex, INVALID_CREDENTIALS);
      else this.authorize(ex, entry);
    }, (err: unknown) => this.storeFailed(ex, err));
  }

  private authorize(ex: Exchange, entry: TokenEntry): void {
    ex.entry = entry;
    const b = this.subscriptions.bindingFor(entry, ex.api!, ex.now);
    if (!(b instanceof Promise)) {
      ex.binding = b;
      return this.admit(ex);
    }
    b.then((binding) => {
      ex.now = Date.now();
      ex.binding = binding;
      this.admit(ex);
    }, (err: unknown) => this.storeFailed(ex, err));
  }

  private admit(ex: Exchange): void {
    const b = ex.binding!;
    if (b.deny !== undefined) return this.fault(ex, b.deny);
    const api = ex.api!;
    const sandbox = ex.entry!.info.keyType === 'SANDBOX';
    const backend = sandbox ? api.sandbox : api.prod;
    if (backend === undefined) {
      if (sandbox && api.api.sandboxUrl === undefined) return this.fault(ex, api.noSandbox);
      return this.fault(ex, BACKEND_UNREACHABLE);
    }
    ex.backend = backend;
    const appLimit = b.appLimit;
    if (appLimit === null) return this.admitSubscription(ex);
    // The application's tier first: one window for all its calls, across every API. The
    // X-RateLimit-* headers describe it when it refuses or the subscription is unlimited;
    // otherwise the subscription's check below overwrites them.
    ex.limit = appLimit;
    const wait = this.throttler.check(b.appKey, appLimit, ex.now, ex);
    if (typeof wait === 'number') return wait > 0 ? this.throttled(ex, wait) : this.admitSubscription(ex);
    wait.then((ms) => {
      ex.now = Date.now();
      if (ms > 0) this.throttled(ex, ms);
      else this.admitSubscription(ex);
    }, (err: unknown) => this.internal(ex, err));
  }

  /** The subscription's tier: its window for this application × API. */
  private admitSubscription(ex: Exchange): void {
    const b = ex.binding!;
    const sub = b.sub;
    if (sub.limit !== null) {
      ex.limit = sub.limit;
      const wait = this.throttler.check(b.throttleKey, sub.limit, ex.now, ex);
      if (typeof wait !== 'number') {
        wait.then((ms) => {
          ex.now = Date.now();
          if (ms > 0) this.throttled(ex, ms);
          else this.sign(ex);
        }, (err: unknown) => this.internal(ex, err));
        return;
      }
      if (wait > 0) return this.throttled(ex, wait);
    }
    this.sign(ex);
  }

  private sign(ex: Exchange): void {
    const api = ex.api!;
    if (!api.sendJwt || this.signer === undefined) return this.forward(ex, undefined);
    const b: Binding = ex.binding!;
    const jwt = this.signer.assertion(b, ex.entry!.info, api.api, b.sub.sub?.tier ?? '', ex.now);
    if (typeof jwt === 'string') return this.forward(ex, jwt);
    jwt.then((signed) => {
      ex.now = Date.now();
      this.forward(ex, signed);
    }, (err: unknown) => this.internal(ex, err));
  }

  private forward(ex: Exchange, jwt: string | undefined): void {
    const req = ex.req;
    if (ex.res.destroyed) return this.done(ex, 499);
    const backend = ex.backend!;
    const api = ex.api!;
    const url = req.url!;
    let path = backend.basePath + (ex.restStart === url.length ? '' : url.slice(ex.restStart));
    if (path.charCodeAt(0) !== 47 /* / */) path = '/' + path;
    ex.dispatch(backend, {
      path,
      method: req.method as Dispatcher.HttpMethod,
      headers: forwardHeaders(req, this.trusted, jwt),
      body: hasBody(req) ? req : null,
      // coarse (0.5 s ticks): the exchange times the response headers itself, to the millisecond;
      // undici's stays as the idle timeout of an upload in progress and as a backstop
      headersTimeout: api.timeoutMs,
      bodyTimeout: api.timeoutMs,
    });
  }

  // ---------------------------------------------------------------- endings

  done(ex: Exchange, status: number): void {
    const seconds = (performance.now() - ex.start) / 1000;
    (ex.api?.metrics ?? this.metrics.none).record(status, seconds);
    if (this.accessLog !== undefined) this.access(ex, status, seconds);
  }

  /** The access line: what was called, by which application, and how it ended; never the query string or a header. */
  private access(ex: Exchange, status: number, seconds: number): void {
    const url = ex.req.url ?? '/';
    const q = url.indexOf('?');
    const info = ex.entry?.info;
    this.accessLog!.info({
      event: 'access',
      method: ex.req.method,
      path: q === -1 ? url : url.slice(0, q),
      api: ex.api?.api.name ?? null,
      version: ex.api?.api.version ?? null,
      application: info?.applicationName ?? null,
      application_id: info?.applicationId ?? null,
      key_type: info?.keyType ?? null,
      status,
      ms: Math.round(seconds * 1e4) / 10,
      remote: ex.req.socket.remoteAddress ?? null,
    }, 'access');
  }

  backendFailed(ex: Exchange, err: Error): void {
    const m = ex.api?.metrics ?? this.metrics.none;
    if (ex.clientGone || err instanceof ClientAbortedError) return this.done(ex, 499);
    const code = (err as { code?: string }).code;
    const timeout = code === 'GATEHOUSE_BACKEND_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT';
    const kind = ex.res.headersSent ? 'aborted' : timeout ? 'timeout' : 'connect';
    m.backendError(kind);
    this.backendWarning(ex, kind, err);
    if (kind === 'aborted') {
      // the backend failed mid-body: all we can do is cut the client's response short
      ex.res.destroy(err);
      return this.done(ex, ex.status);
    }
    this.fault(ex, timeout ? BACKEND_TIMEOUT : BACKEND_UNREACHABLE);
  }

  /** One warning per API, backend and kind of failure every 10 s: which API, which backend host, what happened. */
  private backendWarning(ex: Exchange, kind: 'connect' | 'timeout' | 'aborted', err: Error): void {
    const api = ex.api?.api;
    const backend = ex.entry?.info.keyType === 'SANDBOX' ? api?.sandboxUrl : api?.productionUrl;
    let host = '';
    try {
      host = backend === undefined ? '' : new URL(backend).host;
    } catch {
      // an unusable URL never reaches a dispatch
    }
    const what = kind === 'timeout' ? 'timed out' : kind === 'aborted' ? 'failed after the response started' : 'refused or failed to connect';
    this.log.every(`backend:${api?.id ?? ''}:${host}:${kind}`, 10_000, `gateway: backend ${what}`, err, {
      event: `backend_${kind}`,
      api: api?.name,
      version: api?.version,
      backend: host,
    });
  }

  /** Answers with a fault; after the throttler counted the request, with its X-RateLimit-* headers. */
  private fault(ex: Exchange, fault: GatewayFault, retryAfter?: string): void {
    ex.finished = true;
    let extra: string[] | undefined;
    if (retryAfter !== undefined) extra = ['retry-after', retryAfter];
    if (ex.reportsRateLimit()) {
      (extra ??= []).push('x-ratelimit-limit', ex.limit!.header, 'x-ratelimit-remaining', String(ex.remaining), 'x-ratelimit-reset', String(Math.ceil(ex.resetMs / 1000)));
    }
    writeFault(ex.req, ex.res, fault, extra);
    this.done(ex, fault.status);
  }

  /** 429 with the seconds until the throttler would admit this request (rounded up). */
  private throttled(ex: Exchange, waitMs: number): void {
    ex.api!.metrics.throttled();
    this.fault(ex, THROTTLED, String(Math.max(1, Math.ceil(waitMs / 1000))));
  }

  private storeFailed(ex: Exchange, err: unknown): void {
    // A database outage is logged once by the store's circuit; anything else here, every 30 s.
    if (!(err instanceof GatehouseError && !worthLogging(err))) this.log.every('store', 30_000, 'gateway: store lookup failed', err);
    this.fault(ex, STORE_UNAVAILABLE, STORE_RETRY_AFTER);
  }

  private internal(ex: Exchange, err: unknown): void {
    this.log.every('internal', 1_000, 'gateway: internal error', err);
    if (ex.finished) return;
    if (ex.res.headersSent) {
      ex.finished = true;
      ex.res.destroy();
      return this.done(ex, 500);
    }
    this.fault(ex, INTERNAL_ERROR);
  }

  // ---------------------------------------------------------------- loading

  private makeApiEntry(api: GatewayApi): ApiEntry {
    for (const t of api.tiers) {
      if (!this.tiers.has(t)) this.log.once(`api:${api.id}:${t}`, `gateway: API ${api.name} ${api.version} lists tier "${t}", which is not configured`);
    }
    const timeoutMs = api.timeoutMs !== undefined && api.timeoutMs > 0 ? api.timeoutMs : this.defaultTimeoutMs;
    let deadlines = this.deadlines.get(timeoutMs);
    if (deadlines === undefined) {
      deadlines = new DeadlineList(timeoutMs, onHeadersTimeout);
      this.deadlines.set(timeoutMs, deadlines);
    }
    return {
      api,
      prod: this.backends.backend(api, api.productionUrl),
      sandbox: api.sandboxUrl === undefined ? undefined : this.backends.backend(api, api.sandboxUrl),
      timeoutMs,
      deadlines,
      apiPath: `${api.context}/${api.version}`,
      metrics: this.metrics.forApi(api.name, api.version),
      sendJwt: api.sendJwt === true,
      noSandbox: forbidden(`API ${api.name} version ${api.version} has no sandbox endpoint: a SANDBOX key cannot be used with it; use a PRODUCTION key`),
    };
  }

  // ---------------------------------------------------------------- admin

  invalidateApis(): void {
    this.routes.invalidate();
    this.subscriptions.invalidate();
  }

  /** The invalidation channel is down (false) or subscribed again (true): see TokenValidationCache.degrade. */
  invalidationChannel(up: boolean): void {
    this.tokens.degrade(up ? undefined : this.degradedTtlMs);
  }

  /** How many nodes share the throttling limits (the per-node fallback admits limit / nodes). */
  clusterNodes(n: number): void {
    if (this.throttler instanceof RedisThrottler) this.throttler.setNodes(n);
  }

  async ready(): Promise<void> {
    if (this.throttler instanceof RedisThrottler) {
      // Without Redis at start, throttling counts per node (the cluster bus logs the outage).
      await this.throttler.ready();
    }
  }

  async close(): Promise<void> {
    await this.backends.close();
    for (const d of this.deadlines.values()) d.close();
    this.deadlines.clear();
    await this.throttler.close();
    this.metrics.close();
    this.tokens.clear();
    this.invalidateApis();
  }
}
