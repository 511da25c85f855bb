import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import { coalesce } from './coalesce.js';
import type { Logger } from 'pino';
import { Pool, type Dispatcher } from 'undici';
import {
  BACKEND_TIMEOUT, BACKEND_UNREACHABLE, DOT_SEGMENTS, INTERNAL_ERROR, INVALID_CREDENTIALS, MISSING_CREDENTIALS,
  STORE_UNAVAILABLE, THROTTLED, WWW_AUTH_INVALID, WWW_AUTH_MISSING, forbidden, hasBody, notFound, writeFault,
} from './faults.js';
import { cleanResponseHeaders, extractBearer, forwardHeaders, hasDotSegment } from './headers.js';
import { buildJwks, signAssertion, type JwtOptions } from './jwt.js';
import { MetricsCache, type ApiMetrics, type GatewayMetrics } from './metrics.js';
import { MemoryThrottler, RedisThrottler, toLimit, type Limit, type Throttler } from './throttle.js';
import { TokenValidationCache, hashToken, type TokenEntry } from './token-cache.js';
import type { GatewayApi, GatewayOptions, GatewayStore, GatewaySubscription, TierLimit, TokenInfo, TokenInvalidation } from './types.js';

export interface GatewayDeps {
  store: GatewayStore;
  options: GatewayOptions;
  metrics: GatewayMetrics;
  logger?: Logger | undefined;
}

/** What `createGateway` returns. One per process: share it between the 8243 and 8280 listeners. */
export interface Gateway {
  /**
   * Fastify plugin: `await app.register(gw.plugin)`. It creates its own encapsulated
   * child context (pass-through body parser, `ALL /*` route), so static routes such
   * as /token, /revoke and /.well-known/* registered anywhere on the same instance
   * keep winning over it. It does not close the gateway on app close: call `close()`.
   */
  readonly plugin: (app: FastifyInstance) => Promise<void>;
  /** The token validation cache; `gw.cache.invalidate(msg)` = `gw.invalidate(msg)`. */
  readonly cache: TokenValidationCache;
  /** Drops cached tokens by sha256 hash and/or grant id, at once. Returns how many entries went. */
  invalidate(msg: TokenInvalidation): number;
  /** Drops the published-API and subscription caches (e.g. after an API or subscription change). */
  invalidateApis(): void;
  /** Raw node handler, for use without fastify (tests, benches). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** JWKS with the JWT signing key's public half, or undefined when JWT is not configured. */
  jwks(): Promise<{ keys: object[] }> | undefined;
  /** Resolves when the throttling backend is usable (waits ≤ 2 s for Redis, then fails open). */
  ready(): Promise<void>;
  /** Closes backend pools (in-flight requests are cut after 5 s) and the Redis connection. */
  close(): Promise<void>;
}

export const DEFAULT_TIERS: Record<string, TierLimit | 'unlimited'> = {
  Gold: { requests: 5000, perSeconds: 60 },
  Silver: { requests: 2000, perSeconds: 60 },
  Bronze: { requests: 1000, perSeconds: 60 },
  Unlimited: 'unlimited',
};

/** Deepest API context considered, in path segments (e.g. /a/b/c/d). */
const MAX_CONTEXT_SEGMENTS = 4;

interface Backend { readonly pool: Pool; readonly basePath: string }

interface ApiEntry {
  readonly api: GatewayApi;
  readonly prod: Backend | undefined;
  readonly sandbox: Backend | undefined;
  readonly timeoutMs: number;
  readonly metrics: ApiMetrics;
  readonly sendJwt: boolean;
  /** 403 body for a sandbox key on an API without sandbox endpoint */
  readonly noSandbox: string;
}

interface ApiSlot { readonly entry: ApiEntry | null; exp: number }

interface SubEntry {
  readonly sub: GatewaySubscription | undefined;
  exp: number;
  /** 403 body when the subscription does not admit traffic */
  readonly deny: string | undefined;
  /** null = unlimited */
  readonly limit: Limit | null;
}

/** Per token × API state, hung on the token's cache entry: dropped with it. */
interface Binding {
  readonly api: ApiEntry;
  readonly sub: SubEntry;
  readonly throttleKey: string;
  jwt: string | undefined;
  jwtExp: number;
  jwtRefreshAt: number;
  jwtPending: Promise<string> | undefined;
}

const kExchange = Symbol('gatehouse.exchange');
type ResWithExchange = ServerResponse & { [kExchange]?: Exchange };


class ClientAbortedError extends Error {
  override name = 'ClientAbortedError';
  constructor() { super('client closed the connection'); }
}

/** Bound once: `this` is the ServerResponse. */
function onClientClose(this: ResWithExchange): void {
  const ex = this[kExchange];
  if (ex === undefined || ex.finished) return;
  ex.clientGone = true;
  const c = ex.controller;
  if (c !== null) {
    if (!c.aborted) c.abort(new ClientAbortedError());
  }
}

function onClientDrain(this: ResWithExchange): void {
  const c = this[kExchange]?.controller;
  if (c != null && c.paused) c.resume();
}

/**
 * One proxied request: its state through the pipeline, and the undici dispatch
 * handler for the backend exchange (one object per request, no closures).
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly start = performance.now();
  now = Date.now();
  api: ApiEntry | undefined = undefined;
  restStart = 0;
  entry: TokenEntry | undefined = undefined;
  binding: Binding | undefined = undefined;
  backend: Backend | undefined = undefined;
  controller: Dispatcher.DispatchController | null = null;
  status = 0;
  finished = false;
  clientGone = false;

  constructor(readonly core: GatewayCore, readonly req: IncomingMessage, readonly res: ResWithExchange) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new ClientAbortedError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (this.clientGone) return;
    this.status = statusCode;
    try {
      const h = cleanResponseHeaders(headers);
      if (statusMessage) this.res.writeHead(statusCode, statusMessage, h);
      else this.res.writeHead(statusCode, h);
    } catch (err) {
      controller.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk) && !this.clientGone) {
      controller.pause();
      this.res.once('drain', onClientDrain);
    }
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    this.res.end();
    this.core.done(this, this.status);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.core.backendFailed(this, err);
  }
}

function validateTiers(tiers: GatewayOptions['tiers']): Map<string, Limit | null> {
  const out = new Map<string, Limit | null>();
  if (tiers === null || typeof tiers !== 'object') throw new TypeError('gateway: options.tiers must be an object');
  for (const [name, t] of Object.entries(tiers)) {
    if (t === 'unlimited') {
      out.set(name, null);
      continue;
    }
    if (t === null || typeof t !== 'object' || !Number.isInteger(t.requests) || t.requests < 1 ||
        typeof t.perSeconds !== 'number' || !Number.isFinite(t.perSeconds) || t.perSeconds <= 0) {
      throw new TypeError(`gateway: tier "${name}" must be 'unlimited' or {requests: integer >= 1, perSeconds: number > 0}`);
    }
    out.set(name, toLimit(t));
  }
  return out;
}

function validateOptions(o: GatewayOptions): void {
  for (const k of ['tokenCacheTtlSeconds', 'negativeCacheTtlSeconds', 'apiCacheTtlSeconds', 'defaultTimeoutMs'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`gateway: options.${k} must be a number >= 0`);
  }
  if (o.defaultTimeoutMs <= 0) throw new TypeError('gateway: options.defaultTimeoutMs must be > 0');
  if (o.jwt !== undefined && (o.jwt.ttlSeconds <= 0 || !o.jwt.kid || !o.jwt.issuer)) {
    throw new TypeError('gateway: options.jwt needs kid, issuer and ttlSeconds > 0');
  }
}

class GatewayCore {
  readonly tokens: TokenValidationCache;
  private readonly store: GatewayStore;
  private readonly logger: Logger | undefined;
  private readonly metrics: MetricsCache;
  private readonly tiers: Map<string, Limit | null>;
  private readonly tiersLower = new Map<string, Limit | null>();
  private readonly apiTtlMs: number;
  private readonly defaultTimeoutMs: number;
  private readonly jwtOptions: JwtOptions | undefined;
  readonly throttler: Throttler;
  private readonly apis: LRUCache<string, ApiSlot>;
  private readonly subs: LRUCache<string, SubEntry>;
  private readonly pendingApis = new Map<string, Promise<ApiSlot>>();
  private readonly pendingSubs = new Map<string, Promise<SubEntry>>();
  private readonly pools = new Map<string, Pool>();
  private readonly warned = new Set<string>();
  private apiGeneration = 0;

  constructor(deps: GatewayDeps) {
    const o = deps.options;
    validateOptions(o);
    this.tiers = validateTiers(o.tiers);
    for (const [k, v] of this.tiers) this.tiersLower.set(k.toLowerCase(), v);
    this.store = deps.store;
    this.logger = deps.logger;
    this.metrics = new MetricsCache(deps.metrics);
    this.apiTtlMs = o.apiCacheTtlSeconds * 1000;
    this.defaultTimeoutMs = o.defaultTimeoutMs;
    this.jwtOptions = o.jwt;
    this.tokens = new TokenValidationCache(deps.store, { ttlSeconds: o.tokenCacheTtlSeconds, negativeTtlSeconds: o.negativeCacheTtlSeconds });
    this.tokens.listener = this.metrics;
    this.apis = new LRUCache<string, ApiSlot>({ max: 10_000, dispose: (slot) => { slot.exp = 0; } });
    this.subs = new LRUCache<string, SubEntry>({ max: 100_000, dispose: (sub) => { sub.exp = 0; } });
    this.throttler = o.redisUrl !== undefined && o.redisUrl !== ''
      ? new RedisThrottler(o.redisUrl, { logger: deps.logger })
      : new MemoryThrottler();
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
    const url = ex.req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (hasDotSegment(path)) return this.fault(ex, 400, DOT_SEGMENTS);
    const r = this.resolve(ex, path);
    if (r === true) return this.authenticate(ex);
    if (r === false) return this.fault(ex, 404, notFound(path));
    r.then((found) => {
      ex.now = Date.now();
      if (found) this.authenticate(ex);
      else this.fault(ex, 404, notFound(path));
    }, (err: unknown) => this.storeFailed(ex, err));
  }

  /** Finds the API for /{context}/{version}/…, trying the shortest context first. */
  private resolve(ex: Exchange, path: string): boolean | Promise<boolean> {
    let ctxEnd = path.indexOf('/', 1);
    for (let depth = 0; depth < MAX_CONTEXT_SEGMENTS && ctxEnd !== -1; depth++) {
      let verEnd = path.indexOf('/', ctxEnd + 1);
      if (verEnd === -1) verEnd = path.length;
      if (verEnd === ctxEnd + 1) return false;
      const slot = this.apis.get(verEnd === path.length ? path : path.slice(0, verEnd));
      if (slot === undefined || slot.exp <= ex.now) return this.resolveAsync(ex, path, ctxEnd, depth);
      if (slot.entry !== null) {
        ex.api = slot.entry;
        ex.restStart = verEnd;
        return true;
      }
      ctxEnd = verEnd === path.length ? -1 : verEnd;
    }
    return false;
  }

  private async resolveAsync(ex: Exchange, path: string, ctxEnd: number, depth: number): Promise<boolean> {
    for (; depth < MAX_CONTEXT_SEGMENTS && ctxEnd !== -1; depth++) {
      let verEnd = path.indexOf('/', ctxEnd + 1);
      if (verEnd === -1) verEnd = path.length;
      if (verEnd === ctxEnd + 1) return false;
      const key = path.slice(0, verEnd);
      let slot = this.apis.get(key);
      if (slot === undefined || slot.exp <= Date.now()) slot = await this.loadApi(key, ctxEnd);
      if (slot.entry !== null) {
        ex.api = slot.entry;
        ex.restStart = verEnd;
        return true;
      }
      ctxEnd = verEnd === path.length ? -1 : verEnd;
    }
    return false;
  }

  private loadApi(key: string, ctxEnd: number): Promise<ApiSlot> {
    return coalesce(this.pendingApis, key, () => {
      const gen = this.apiGeneration;
      return this.store.findPublishedApi(key.slice(0, ctxEnd), key.slice(ctxEnd + 1)).then((api) => {
        const slot: ApiSlot = { entry: api === undefined ? null : this.makeApiEntry(api), exp: Date.now() + this.apiTtlMs };
        if (gen === this.apiGeneration && this.apiTtlMs > 0) this.apis.set(key, slot);
        return slot;
      });
    });
  }

  private authenticate(ex: Exchange): void {
    const token = extractBearer(ex.req.headers.authorization);
    if (token === undefined) return this.fault(ex, 401, MISSING_CREDENTIALS, 'www-authenticate', WWW_AUTH_MISSING);
    const hash = hashToken(token);
    const hit = this.tokens.peek(hash, ex.now);
    if (hit === null) return this.fault(ex, 401, INVALID_CREDENTIALS, 'www-authenticate', WWW_AUTH_INVALID);
    if (hit !== undefined) return this.authorize(ex, hit);
    this.tokens.load(token, hash).then((entry) => {
      ex.now = Date.now();
      if (entry === null) this.fault(ex, 401, INVALID_CREDENTIALS, 'www-authenticate', WWW_AUTH_INVALID);
      else this.authorize(ex, entry);
    }, (err: unknown) => this.storeFailed(ex, err));
  }

  private authorize(ex: Exchange, entry: TokenEntry): void {
    ex.entry = entry;
    const api = ex.api!;
    const bindings = entry.bindings as Map<string, Binding> | undefined;
    const b = bindings?.get(api.api.id);
    if (b !== undefined && b.api === api && b.sub.exp > ex.now) {
      ex.binding = b;
      return this.admit(ex);
    }
    const key = entry.info.applicationId + ':' + api.api.id;
    const sub = this.subs.get(key);
    if (sub !== undefined && sub.exp > ex.now) {
      ex.binding = this.bind(entry, api, sub, key, b);
      return this.admit(ex);
    }
    this.loadSub(key, entry.info, api).then((s) => {
      ex.now = Date.now();
      ex.binding = this.bind(entry, api, s, key, b);
      this.admit(ex);
    }, (err: unknown) => this.storeFailed(ex, err));
  }

  private bind(entry: TokenEntry, api: ApiEntry, sub: SubEntry, key: string, old: Binding | undefined): Binding {
    const keep = old !== undefined && old.api === api && old.sub.sub?.tier === sub.sub?.tier;
    const b: Binding = {
      api, sub, throttleKey: key,
      jwt: keep ? old.jwt : undefined,
      jwtExp: keep ? old.jwtExp : 0,
      jwtRefreshAt: keep ? old.jwtRefreshAt : 0,
      jwtPending: undefined,
    };
    let m = entry.bindings as Map<string, Binding> | undefined;
    if (m === undefined) {
      m = new Map();
      entry.bindings = m;
    }
    m.set(api.api.id, b);
    return b;
  }

  private loadSub(key: string, info: TokenInfo, api: ApiEntry): Promise<SubEntry> {
    return coalesce(this.pendingSubs, key, () => {
      const gen = this.apiGeneration;
      return this.store.findSubscription(info.applicationId, api.api.id).then((sub) => {
        const entry = this.makeSubEntry(sub, info, api);
        if (gen === this.apiGeneration && this.apiTtlMs > 0) this.subs.set(key, entry);
        return entry;
      });
    });
  }

  private admit(ex: Exchange): void {
    const b = ex.binding!;
    const sub = b.sub;
    if (sub.deny !== undefined) return this.fault(ex, 403, sub.deny);
    const api = ex.api!;
    const sandbox = ex.entry!.info.keyType === 'SANDBOX';
    const backend = sandbox ? api.sandbox : api.prod;
    if (backend === undefined) {
      if (sandbox && api.api.sandboxUrl === undefined) return this.fault(ex, 403, api.noSandbox);
      return this.fault(ex, 502, BACKEND_UNREACHABLE);
    }
    ex.backend = backend;
    if (sub.limit !== null) {
      const wait = this.throttler.check(b.throttleKey, sub.limit, ex.now);
      if (typeof wait !== 'number') {
        wait.then((ms) => {
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
    if (!ex.api!.sendJwt || this.jwtOptions === undefined) return this.forward(ex, undefined);
    const b = ex.binding!;
    if (b.jwt !== undefined && b.jwtExp > ex.now + 1000) {
      if (b.jwtRefreshAt <= ex.now && b.jwtPending === undefined) {
        // refresh in the background; this request goes with the still-valid assertion
        this.signBinding(b, ex.entry!.info).catch((err: unknown) => this.logger?.error({ err }, 'gateway: JWT signing failed'));
      }
      return this.forward(ex, b.jwt);
    }
    this.signBinding(b, ex.entry!.info).then((jwt) => {
      ex.now = Date.now();
      this.forward(ex, jwt);
    }, (err: unknown) => this.internal(ex, err));
  }

  private signBinding(b: Binding, info: TokenInfo): Promise<string> {
    if (b.jwtPending !== undefined) return b.jwtPending;
    const jwtOpts = this.jwtOptions!;
    const nowS = Math.floor(Date.now() / 1000);
    const p = signAssertion(jwtOpts, info, b.api.api, b.sub.sub?.tier ?? '', nowS).then(({ jwt, exp }) => {
      b.jwt = jwt;
      b.jwtExp = exp * 1000;
      // re-sign once 80 % of the lifetime is gone, so backends never get a nearly-expired assertion
      b.jwtRefreshAt = (nowS + (exp - nowS) * 0.8) * 1000;
      b.jwtPending = undefined;
      return jwt;
    }, (err: unknown) => {
      b.jwtPending = undefined;
      throw err;
    });
    b.jwtPending = p;
    return p;
  }

  private forward(ex: Exchange, jwt: string | undefined): void {
    const req = ex.req;
    const res = ex.res;
    if (res.destroyed) return this.done(ex, 499);
    const backend = ex.backend!;
    const api = ex.api!;
    const url = req.url!;
    let path = backend.basePath + (ex.restStart === url.length ? '' : url.slice(ex.restStart));
    if (path.charCodeAt(0) !== 47 /* / */) path = '/' + path;
    res[kExchange] = ex;
    res.on('close', onClientClose);
    backend.pool.dispatch({
      path,
      method: req.method as Dispatcher.HttpMethod,
      headers: forwardHeaders(req, jwt === undefined ? undefined : 'x-jwt-assertion', jwt),
      body: hasBody(req) ? req : null,
      headersTimeout: api.timeoutMs,
      bodyTimeout: api.timeoutMs,
    }, ex);
  }

  // ---------------------------------------------------------------- endings

  done(ex: Exchange, status: number): void {
    (ex.api?.metrics ?? this.metrics.none).record(status, (performance.now() - ex.start) / 1000);
  }

  backendFailed(ex: Exchange, err: Error): void {
    const m = ex.api?.metrics ?? this.metrics.none;
    if (ex.clientGone || err instanceof ClientAbortedError) return this.done(ex, 499);
    const code = (err as { code?: string }).code;
    const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT';
    if (ex.res.headersSent) {
      // the backend failed mid-body: all we can do is cut the client's response short
      m.backendError('aborted');
      this.logger?.debug({ err, api: ex.api?.api.name }, 'gateway: backend failed after the response started');
      ex.res.destroy(err);
      return this.done(ex, ex.status);
    }
    m.backendError(timeout ? 'timeout' : 'connect');
    this.logger?.debug({ err, api: ex.api?.api.name }, 'gateway: backend request failed');
    this.fault(ex, timeout ? 504 : 502, timeout ? BACKEND_TIMEOUT : BACKEND_UNREACHABLE);
  }

  private fault(ex: Exchange, status: number, body: Buffer | string, name?: string, value?: string): void {
    ex.finished = true;
    writeFault(ex.req, ex.res, status, body, name, value);
    this.done(ex, status);
  }

  private throttled(ex: Exchange, waitMs: number): void {
    ex.api!.metrics.throttled();
    this.fault(ex, 429, THROTTLED, 'retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
  }

  private storeFailed(ex: Exchange, err: unknown): void {
    this.warnOnce('store', 'gateway: store lookup failed', err);
    this.fault(ex, 503, STORE_UNAVAILABLE);
  }

  private internal(ex: Exchange, err: unknown): void {
    this.logger?.error({ err }, 'gateway: internal error');
    if (ex.finished) return;
    if (ex.res.headersSent) {
      ex.finished = true;
      ex.res.destroy();
      return this.done(ex, 500);
    }
    this.fault(ex, 500, INTERNAL_ERROR);
  }

  private warnOnce(key: string, msg: string, err: unknown): void {
    // at most one warning per key per 30 s
    const k = key + '@' + Math.floor(Date.now() / 30_000);
    if (this.warned.has(k)) return;
    if (this.warned.size > 1000) this.warned.clear();
    this.warned.add(k);
    if (this.logger !== undefined) this.logger.warn({ err }, msg);
    else process.emitWarning(`${msg}: ${err instanceof Error ? err.message : String(err)}`);
  }

  // ---------------------------------------------------------------- loading

  private makeApiEntry(api: GatewayApi): ApiEntry {
    for (const t of api.tiers) {
      if (!this.tiers.has(t) && !this.tiersLower.has(t.toLowerCase())) {
        this.configError(`api:${api.id}:${t}`, `gateway: API ${api.name} ${api.version} lists tier "${t}", which is not configured`);
      }
    }
    return {
      api,
      prod: this.backend(api, api.productionUrl),
      sandbox: api.sandboxUrl === undefined ? undefined : this.backend(api, api.sandboxUrl),
      timeoutMs: api.timeoutMs !== undefined && api.timeoutMs > 0 ? api.timeoutMs : this.defaultTimeoutMs,
      metrics: this.metrics.forApi(api.name, api.version),
      sendJwt: api.sendJwt === true,
      noSandbox: forbidden(`API ${api.name} version ${api.version} has no sandbox endpoint: a SANDBOX key cannot be used with it; use a PRODUCTION key`),
    };
  }

  private backend(api: GatewayApi, raw: string): Backend | undefined {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      this.configError(`url:${api.id}:${raw}`, `gateway: API ${api.name} ${api.version} has an invalid backend URL "${raw}"`);
      return undefined;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      this.configError(`url:${api.id}:${raw}`, `gateway: API ${api.name} ${api.version} backend URL must be http(s): "${raw}"`);
      return undefined;
    }
    let pool = this.pools.get(u.origin);
    if (pool === undefined) {
      pool = new Pool(u.origin, {
        connectTimeout: Math.min(this.defaultTimeoutMs, 10_000),
        keepAliveTimeout: 4_000,
        pipelining: 1,
      });
      this.pools.set(u.origin, pool);
    }
    const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
    return { pool, basePath };
  }

  private makeSubEntry(sub: GatewaySubscription | undefined, info: TokenInfo, api: ApiEntry): SubEntry {
    const exp = Date.now() + this.apiTtlMs;
    const a = api.api;
    if (sub === undefined) {
      return { sub, exp, limit: null, deny: forbidden(`User is NOT authorized to access the Resource. API Subscription validation failed: application ${info.applicationName} is not subscribed to API ${a.name} version ${a.version}`) };
    }
    if (sub.status !== 'ACTIVE') {
      return { sub, exp, limit: null, deny: forbidden(`The subscription of application ${info.applicationName} to API ${a.name} version ${a.version} is blocked`) };
    }
    let limit = this.tiers.get(sub.tier);
    if (limit === undefined) limit = this.tiersLower.get(sub.tier.toLowerCase());
    if (limit === undefined) {
      this.configError(`tier:${sub.tier}`, `gateway: subscription tier "${sub.tier}" (application ${info.applicationId}, API ${a.name} ${a.version}) is not configured; its requests are refused with 403 until it is`);
      return { sub, exp, limit: null, deny: forbidden(`The subscription tier ${sub.tier} is not configured on this gateway`) };
    }
    return { sub, exp, limit, deny: undefined };
  }

  private configError(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    if (this.logger !== undefined) this.logger.error(msg);
    else process.emitWarning(msg);
  }

  // ---------------------------------------------------------------- admin

  invalidateApis(): void {
    this.apiGeneration++;
    this.apis.clear();
    this.subs.clear();
    this.pendingApis.clear();
    this.pendingSubs.clear();
  }

  async ready(): Promise<void> {
    if (this.throttler instanceof RedisThrottler) {
      const ok = await this.throttler.ready();
      if (!ok) this.warnOnce('redis-ready', 'gateway: Redis not reachable at start; throttling fails open until it is', new Error('not ready'));
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => Promise.race([
      p.close(),
      new Promise<void>((r) => setTimeout(r, 5000).unref()),
    ]).then(() => p.destroyed ? undefined : p.destroy())));
    await this.throttler.close();
    this.metrics.close();
    this.tokens.clear();
    this.invalidateApis();
  }

  jwks(): Promise<{ keys: object[] }> | undefined {
    return this.jwtOptions === undefined ? undefined : buildJwks(this.jwtOptions);
  }
}

/** No-op body parser: the body stays unread on the raw request and is streamed to the backend. */
function passThrough(_req: unknown, _payload: unknown, done: (err: Error | null, body?: unknown) => void): void {
  done(null);
}

/**
 * Creates the gateway: caches, throttler, backend pools, and the fastify plugin.
 *
 *   const gw = createGateway({ store, options, metrics, logger });
 *   await app.register(gw.plugin);             // inside the gateway's encapsulated context
 *   gw.invalidate({ tokenHashes, grantIds });  // from /revoke, or a cluster message
 *   await gw.close();                          // on shutdown
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
    cache: core.tokens,
    invalidate: (msg) => core.tokens.invalidate(msg),
    invalidateApis: () => core.invalidateApis(),
    handle: (req, res) => core.handle(req, res),
    jwks: () => core.jwks(),
    ready: () => core.ready(),
    close: () => core.close(),
  };
}
