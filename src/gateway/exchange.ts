import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Backend } from './backends.js';
import type { DeadlineList, Deadlined } from './deadlines.js';
import { cleanResponseHeaders } from './headers.js';
import type { ApiEntry, RouteTarget } from './routing.js';
import type { Binding } from './subscriptions.js';
import type { Limit, ThrottleOutcome } from './throttle.js';
import type { TokenEntry } from './token-cache.js';

/** What an exchange reports to when the backend exchange ends. */
export interface ExchangeOwner {
  done(ex: Exchange, status: number): void;
  backendFailed(ex: Exchange, err: Error): void;
}

export class ClientAbortedError extends Error {
  override name = 'ClientAbortedError';
  constructor() {
    super('client closed the connection');
  }
}

/** The backend sent no response headers within the API's timeout (measured by the gateway, to the millisecond). */
export class BackendTimeoutError extends Error {
  override name = 'BackendTimeoutError';
  readonly code = 'GATEHOUSE_BACKEND_TIMEOUT';
  constructor(ms: number) {
    super(`no response headers from the backend within ${ms} ms`);
  }
}

const kExchange = Symbol('gatehouse.exchange');
export type ResWithExchange = ServerResponse & { [kExchange]?: Exchange };
type ReqWithExchange = IncomingMessage & { [kExchange]?: Exchange };

/** Bound once: `this` is the ServerResponse. */
function onClientClose(this: ResWithExchange): void {
  const ex = this[kExchange];
  if (ex === undefined || ex.finished) return;
  ex.clientGone = true;
  const c = ex.controller;
  if (c !== null && !c.aborted) c.abort(new ClientAbortedError());
}

function onClientDrain(this: ResWithExchange): void {
  const c = this[kExchange]?.controller;
  if (c != null && c.paused) c.resume();
}

/** Bound once: `this` is the client's request, whose body has now been read to its end. */
function onUploadEnd(this: ReqWithExchange): void {
  const ex = this[kExchange];
  if (ex !== undefined && !ex.finished && ex.status === 0) ex.api!.deadlines.add(ex, Date.now());
}

/**
 * The API's timeout ran out before the backend's response headers arrived: 504 now, the
 * backend exchange aborted. Called by the API's deadline list (see ApiEntry.deadlines).
 */
export function onHeadersTimeout(item: Deadlined): void {
  const ex = item as Exchange;
  if (ex.finished) return;
  ex.finished = true;
  const err = new BackendTimeoutError(ex.api!.timeoutMs);
  const c = ex.controller;
  if (c !== null && !c.aborted) c.abort(err);
  ex.owner.backendFailed(ex, err);
}

/**
 * One proxied request: its state through the pipeline, and the undici dispatch handler for
 * the backend exchange (one object per request, no closures). A client that goes away aborts
 * the backend exchange; a slow client pauses the backend's body (back-pressure).
 */
export class Exchange implements Dispatcher.DispatchHandler, RouteTarget, ThrottleOutcome, Deadlined {
  readonly start = performance.now();
  now = Date.now();
  api: ApiEntry | undefined = undefined;
  restStart = 0;
  entry: TokenEntry | undefined = undefined;
  binding: Binding | undefined = undefined;
  backend: Backend | undefined = undefined;
  controller: Dispatcher.DispatchController | null = null;
  /** The finite limit (the subscription's, else the application's) the throttler counted this request against (X-RateLimit-*). */
  limit: Limit | null = null;
  remaining = -1;
  resetMs = 0;
  // the API's deadline for the backend's response headers (an intrusive list: no timer per request)
  dlPrev: Deadlined | null = null;
  dlNext: Deadlined | null = null;
  dlAt = 0;
  dlList: DeadlineList | null = null;
  status = 0;
  finished = false;
  clientGone = false;

  constructor(
    readonly owner: ExchangeOwner,
    readonly req: IncomingMessage,
    readonly res: ResWithExchange,
  ) {}

  /**
   * Starts the backend exchange on the backend's pool, with a deadline for the response headers
   * that starts once the request is sent (at once, or when the client's body has been read to
   * its end), kept to the millisecond by the API's deadline list: undici's own headersTimeout
   * runs on a 0.5 s-granular clock (a 1500 ms timeout fired after ~2 s), so it stays only as a
   * backstop, and as the idle timeout of an upload in progress.
   */
  dispatch(backend: Backend, options: Dispatcher.DispatchOptions): void {
    this.res[kExchange] = this;
    this.res.on('close', onClientClose);
    const req = this.req as ReqWithExchange;
    if (options.body == null || req.readableEnded) {
      this.api!.deadlines.add(this, this.now);
    } else {
      req[kExchange] = this;
      req.once('end', onUploadEnd);
    }
    backend.pool.dispatch(options, this);
  }

  /** Whether the client gets X-RateLimit-* headers: a finite limit counted this request (and Redis did not fail open). */
  reportsRateLimit(): boolean {
    return this.limit !== null && this.remaining >= 0;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone || this.finished) controller.abort(this.clientGone ? new ClientAbortedError() : new BackendTimeoutError(0));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (this.dlList !== null) this.dlList.remove(this);
    if (this.clientGone || this.finished) return;
    this.status = statusCode;
    try {
      const h = cleanResponseHeaders(headers, this.api!.apiPath);
      if (this.reportsRateLimit()) {
        h['x-ratelimit-limit'] = this.limit!.header;
        h['x-ratelimit-remaining'] = String(this.remaining);
        h['x-ratelimit-reset'] = String(Math.ceil(this.resetMs / 1000));
      }
      if (statusMessage) this.res.writeHead(statusCode, statusMessage, h);
      else this.res.writeHead(statusCode, h);
    } catch (err) {
      controller.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    if (!this.res.write(chunk) && !this.clientGone) {
      controller.pause();
      this.res.once('drain', onClientDrain);
    }
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    this.res.end();
    this.owner.done(this, this.status);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.dlList !== null) this.dlList.remove(this);
    if (this.finished) return;
    this.finished = true;
    this.owner.backendFailed(this, err);
  }
}
