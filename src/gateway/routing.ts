import { lruCache } from '../memory.js';
import type { Backend } from './backends.js';
import type { DeadlineList } from './deadlines.js';
import { coalesce } from './coalesce.js';
import type { GatewayFault } from './faults.js';
import type { ApiMetrics } from './metrics.js';
import { MAX_CONTEXT_SEGMENTS } from '../types.js';
import type { GatewayApi, GatewayStore } from './types.js';

/** A published API with everything the pipeline needs resolved once. */
export interface ApiEntry {
  readonly api: GatewayApi;
  readonly prod: Backend | undefined;
  readonly sandbox: Backend | undefined;
  readonly timeoutMs: number;
  /** The response-headers deadlines of this API's timeout (shared by every API with the same one). */
  readonly deadlines: DeadlineList;
  /** `/{context}/{version}`: the JWT audience and the cookie paths the backend may set */
  readonly apiPath: string;
  readonly metrics: ApiMetrics;
  readonly sendJwt: boolean;
  /** 403 for a sandbox key on an API without sandbox endpoint */
  readonly noSandbox: GatewayFault;
}

/** A cached answer for one /{context}/{version} prefix: the API, or null for "none". */
interface ApiSlot {
  readonly entry: ApiEntry | null;
  exp: number;
}

/** What a successful resolution fills in on the request. */
export interface RouteTarget {
  api: ApiEntry | undefined;
  /** Where the rest of the path (after /{context}/{version}) starts in the request URL. */
  restStart: number;
}

/**
 * Finds the published API of a request path, /{context}/{version}/…, trying the shortest
 * context first, and caches found and not-found answers for `ttlMs`.
 */
export class ApiRoutes {
  private readonly slots = lruCache<string, ApiSlot>({ maxEntries: 10_000, dispose: (slot) => { slot.exp = 0; } });
  private readonly pending = new Map<string, Promise<ApiSlot>>();
  private generation = 0;

  constructor(
    private readonly store: Pick<GatewayStore, 'findPublishedApi'>,
    private readonly ttlMs: number,
    private readonly makeEntry: (api: GatewayApi) => ApiEntry,
  ) {}

  /**
   * True or false when the answer is cached (no promise is allocated on that path), else a
   * promise of it. One loop for both: a prefix missing from the cache is loaded, and the loop
   * resumes at that prefix with the loaded answer.
   */
  resolve(t: RouteTarget, path: string, now: number, ctxEnd = path.indexOf('/', 1), depth = 0, loaded?: ApiSlot): boolean | Promise<boolean> {
    for (; depth < MAX_CONTEXT_SEGMENTS && ctxEnd !== -1; depth++) {
      let verEnd = path.indexOf('/', ctxEnd + 1);
      if (verEnd === -1) verEnd = path.length;
      if (verEnd === ctxEnd + 1) return false;
      let slot = loaded;
      loaded = undefined;
      if (slot === undefined) {
        const key = verEnd === path.length ? path : path.slice(0, verEnd);
        slot = this.slots.get(key);
        if (slot === undefined || slot.exp <= now) {
          const c = ctxEnd;
          const d = depth;
          return this.load(key, ctxEnd).then((s) => this.resolve(t, path, Date.now(), c, d, s));
        }
      }
      if (slot.entry !== null) {
        t.api = slot.entry;
        t.restStart = verEnd;
        return true;
      }
      ctxEnd = verEnd === path.length ? -1 : verEnd;
    }
    return false;
  }

  private load(key: string, ctxEnd: number): Promise<ApiSlot> {
    return coalesce(this.pending, key, () => {
      const gen = this.generation;
      return this.store.findPublishedApi(key.slice(0, ctxEnd), key.slice(ctxEnd + 1)).then((api) => {
        const slot: ApiSlot = { entry: api === undefined ? null : this.makeEntry(api), exp: Date.now() + this.ttlMs };
        if (gen === this.generation && this.ttlMs > 0) this.slots.set(key, slot);
        return slot;
      });
    });
  }

  /** Forgets every cached answer (an API was created, changed, published or retired). */
  invalidate(): void {
    this.generation++;
    this.slots.clear();
    this.pending.clear();
  }
}
