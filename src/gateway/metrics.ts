import { Counter, Histogram, type Registry } from 'prom-client';

export interface GatewayMetrics {
  readonly requests: Counter<'api' | 'version' | 'status'>;
  readonly duration: Histogram<'api' | 'version'>;
  readonly throttled: Counter<'api' | 'version'>;
  readonly tokenCacheHits: Counter<'kind'>;
  readonly tokenCacheMisses: Counter<string>;
  readonly backendErrors: Counter<'api' | 'version' | 'kind'>;
  /**
   * Request counts and durations are accumulated in plain fields on the hot path and
   * folded into `requests` / `duration` when the registry is scraped (collect()).
   * Gateways using these metrics register their flush function here.
   */
  readonly flushers: Set<() => void>;
}

export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Registers the gateway metrics on `registry`:
 *  - gatehouse_gateway_requests_total{api,version,status}
 *  - gatehouse_gateway_request_duration_seconds{api,version} (histogram)
 *  - gatehouse_gateway_throttled_total{api,version}
 *  - gatehouse_gateway_token_cache_hits_total{kind="positive"|"negative"}
 *  - gatehouse_gateway_token_cache_misses_total   (each one is a store lookup)
 *  - gatehouse_gateway_backend_errors_total{api,version,kind="connect"|"timeout"|"aborted"}
 * Requests that match no API are counted with api="" and version="".
 * Call once per registry (prom-client rejects duplicate names).
 */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  const flushers = new Set<() => void>();
  const flush = (): void => { for (const f of flushers) f(); };
  return {
    flushers,
    requests: new Counter({
      collect: flush,
      name: 'gatehouse_gateway_requests_total',
      help: 'Requests handled by the API gateway, by API, version and response status',
      labelNames: ['api', 'version', 'status'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'gatehouse_gateway_request_duration_seconds',
      help: 'Time from request arrival to the end of the response (headers + body handed to the socket)',
      labelNames: ['api', 'version'] as const,
      buckets: DURATION_BUCKETS,
      collect: flush,
      registers,
    }),
    throttled: new Counter({
      name: 'gatehouse_gateway_throttled_total',
      help: 'Requests rejected with 429 by subscription throttling',
      labelNames: ['api', 'version'] as const,
      registers,
    }),
    tokenCacheHits: new Counter({
      name: 'gatehouse_gateway_token_cache_hits_total',
      help: 'Bearer tokens answered from the validation cache (positive = valid token, negative = known-bad token)',
      labelNames: ['kind'] as const,
      collect: flush,
      registers,
    }),
    tokenCacheMisses: new Counter({
      name: 'gatehouse_gateway_token_cache_misses_total',
      help: 'Bearer token validations that went to the store',
      collect: flush,
      registers,
    }),
    backendErrors: new Counter({
      name: 'gatehouse_gateway_backend_errors_total',
      help: 'Backend failures: connect (refused/reset/DNS, 502), timeout (504), aborted (failed after the response started)',
      labelNames: ['api', 'version', 'kind'] as const,
      registers,
    }),
  };
}

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

/** prom-client's histogram internals, used to fold accumulated observations in at scrape time. */
interface HistogramInternals {
  hashMap: Record<string, { labels: Record<string, string | number>; bucketValues: Record<string, number>; sum: number; count: number }>;
  upperBounds: number[];
  zero(labels: Record<string, string>): void;
}

function histogramInternals(h: Histogram<string>): HistogramInternals | undefined {
  const i = h as unknown as Partial<HistogramInternals>;
  const ok = typeof i.hashMap === 'object' && i.hashMap !== null && typeof i.zero === 'function' &&
    Array.isArray(i.upperBounds) && i.upperBounds.length === DURATION_BUCKETS.length &&
    i.upperBounds.every((b, k) => b === DURATION_BUCKETS[k]);
  return ok ? (i as HistogramInternals) : undefined;
}

/**
 * Metrics of one API version. The hot path only bumps plain numbers (no label
 * hashing, no allocation); `flush()` folds them into the prom-client metrics when the
 * registry is scraped. If prom-client's histogram internals are not as expected, it
 * falls back to observing each request directly.
 */
export class ApiMetrics {
  private readonly byStatus = new Map<number, { n: number; child: CounterChild | undefined }>();
  private readonly buckets = new Float64Array(DURATION_BUCKETS.length);
  private sum = 0;
  private count = 0;
  private readonly direct: HistogramChild | undefined;
  private throttledChild: CounterChild | undefined;

  constructor(private readonly m: GatewayMetrics, private readonly api: string, private readonly version: string,
    private readonly internals: HistogramInternals | undefined) {
    this.direct = internals === undefined ? m.duration.labels(api, version) : undefined;
  }

  record(status: number, seconds: number): void {
    let s = this.byStatus.get(status);
    if (s === undefined) {
      s = { n: 0, child: undefined };
      this.byStatus.set(status, s);
    }
    s.n++;
    if (this.direct !== undefined) {
      this.direct.observe(seconds);
      return;
    }
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= DURATION_BUCKETS[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
    this.sum += seconds;
    this.count++;
  }

  flush(): void {
    for (const [status, s] of this.byStatus) {
      if (s.n === 0) continue;
      (s.child ??= this.m.requests.labels(this.api, this.version, String(status))).inc(s.n);
      s.n = 0;
    }
    const h = this.internals;
    if (h === undefined || this.count === 0) return;
    let entry = this.find(h);
    if (entry === undefined) {
      h.zero({ api: this.api, version: this.version });
      entry = this.find(h);
      if (entry === undefined) return;
    }
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      const k = this.buckets[i]!;
      if (k === 0) continue;
      entry.bucketValues[String(DURATION_BUCKETS[i])] = (entry.bucketValues[String(DURATION_BUCKETS[i])] ?? 0) + k;
      this.buckets[i] = 0;
    }
    entry.sum += this.sum;
    entry.count += this.count;
    this.sum = 0;
    this.count = 0;
  }

  private find(h: HistogramInternals): HistogramInternals['hashMap'][string] | undefined {
    for (const k in h.hashMap) {
      const e = h.hashMap[k]!;
      if (e.labels.api === this.api && e.labels.version === this.version) return e;
    }
    return undefined;
  }

  throttled(): void {
    (this.throttledChild ??= this.m.throttled.labels(this.api, this.version)).inc();
  }

  backendError(kind: 'connect' | 'timeout' | 'aborted'): void {
    this.m.backendErrors.labels(this.api, this.version, kind).inc();
  }
}

export class MetricsCache {
  private readonly perApi = new Map<string, ApiMetrics>();
  private readonly internals: HistogramInternals | undefined;
  readonly none: ApiMetrics;
  private readonly positiveHits: CounterChild;
  private readonly negativeHits: CounterChild;
  private posHits = 0;
  private negHits = 0;
  private misses = 0;
  readonly flush = (): void => {
    if (this.posHits > 0) { this.positiveHits.inc(this.posHits); this.posHits = 0; }
    if (this.negHits > 0) { this.negativeHits.inc(this.negHits); this.negHits = 0; }
    if (this.misses > 0) { this.m.tokenCacheMisses.inc(this.misses); this.misses = 0; }
    this.none.flush();
    for (const a of this.perApi.values()) a.flush();
  };

  constructor(readonly m: GatewayMetrics) {
    this.internals = histogramInternals(m.duration);
    this.none = new ApiMetrics(m, '', '', this.internals);
    this.positiveHits = m.tokenCacheHits.labels('positive');
    this.negativeHits = m.tokenCacheHits.labels('negative');
    m.flushers.add(this.flush);
  }

  forApi(name: string, version: string): ApiMetrics {
    const key = name + '\n' + version;
    let a = this.perApi.get(key);
    if (a === undefined) {
      a = new ApiMetrics(this.m, name, version, this.internals);
      this.perApi.set(key, a);
    }
    return a;
  }

  hit(positive: boolean): void {
    if (positive) this.posHits++;
    else this.negHits++;
  }

  miss(): void {
    this.misses++;
  }

  close(): void {
    this.flush();
    this.m.flushers.delete(this.flush);
  }
}
