import { Counter, Histogram, type Registry } from 'prom-client';

export interface GatewayMetrics {
  readonly requests: Counter<'api' | 'version' | 'status'>;
  readonly duration: Histogram<'api' | 'version'>;
  readonly throttled: Counter<'api' | 'version'>;
  readonly tokenCacheHits: Counter<'kind'>;
  readonly tokenCacheMisses: Counter<string>;
  readonly backendErrors: Counter<'api' | 'version' | 'kind'>;
}

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
  return {
    requests: new Counter({
      name: 'gatehouse_gateway_requests_total',
      help: 'Requests handled by the API gateway, by API, version and response status',
      labelNames: ['api', 'version', 'status'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'gatehouse_gateway_request_duration_seconds',
      help: 'Time from request arrival to the end of the response (headers + body handed to the socket)',
      labelNames: ['api', 'version'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
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
      registers,
    }),
    tokenCacheMisses: new Counter({
      name: 'gatehouse_gateway_token_cache_misses_total',
      help: 'Bearer token validations that went to the store',
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

/**
 * Label children for one API version, resolved once so the hot path does not
 * hash label sets on every request.
 */
export class ApiMetrics {
  private readonly byStatus = new Map<number, CounterChild>();
  readonly duration: HistogramChild;
  private throttledChild: CounterChild | undefined;

  constructor(private readonly m: GatewayMetrics, private readonly api: string, private readonly version: string) {
    this.duration = m.duration.labels(api, version);
  }

  record(status: number, seconds: number): void {
    let c = this.byStatus.get(status);
    if (c === undefined) {
      c = this.m.requests.labels(this.api, this.version, String(status));
      this.byStatus.set(status, c);
    }
    c.inc();
    this.duration.observe(seconds);
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
  readonly none: ApiMetrics;
  private readonly positiveHits: CounterChild;
  private readonly negativeHits: CounterChild;

  constructor(readonly m: GatewayMetrics) {
    this.none = new ApiMetrics(m, '', '');
    this.positiveHits = m.tokenCacheHits.labels('positive');
    this.negativeHits = m.tokenCacheHits.labels('negative');
  }

  forApi(name: string, version: string): ApiMetrics {
    const key = name + '\n' + version;
    let a = this.perApi.get(key);
    if (a === undefined) {
      a = new ApiMetrics(this.m, name, version);
      this.perApi.set(key, a);
    }
    return a;
  }

  hit(positive: boolean): void {
    (positive ? this.positiveHits : this.negativeHits).inc();
  }

  miss(): void {
    this.m.tokenCacheMisses.inc();
  }
}
