import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Backend } from './backends.js';
import { cleanResponseHeaders } from './headers.js';
import type { ApiEntry, RouteTarget } from './routing.js';
import type { Binding } from './subscriptions.js';
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

const kExchange = Symbol('gatehouse.exchange');
export type ResWithExchange = ServerResponse & { [kExchange]?: Exchange };

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

/**
 * One proxied request: its state through the pipeline, and the undici dispatch handler for
 * the backend exchange (one object per request, no closures). A client that goes away aborts
 * the backend exchange; a slow client pauses the backend's body (back-pressure).
 */
export class Exchange implements Dispatcher.DispatchHandler, RouteTarget {
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

  constructor(
    readonly owner: ExchangeOwner,
    readonly req: IncomingMessage,
    readonly res: ResWithExchange,
  ) {}

  /** Starts the backend exchange on the backend's pool. */
  dispatch(backend: Backend, options: Dispatcher.DispatchOptions): void {
    this.res[kExchange] = this;
    this.res.on('close', onClientClose);
    backend.pool.dispatch(options, this);
  }

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
    this.owner.done(this, this.status);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.owner.backendFailed(this, err);
  }
}
