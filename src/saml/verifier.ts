import { GatehouseError } from '../errors.js';
import { availableParallelism } from 'node:os';
import { decodeAssertionParam } from './base64.js';
import { FailureBudget } from './budget.js';
import { SamlWorkerPool, type SamlPoolOptions } from './pool.js';
import { DEFAULT_MAX_DEPTH, type SamlBearerClaims, type SamlVerifyOptions } from './types.js';

/** The `saml` configuration section (src/config/schema.ts). */
export interface SamlSettings {
  maxAssertionBytes: number;
  maxElements: number;
  maxAttributes: number;
  /** Worker threads; absent: one per core beyond the first (at least 1, at most 4). */
  workers?: number | undefined;
  queueSize: number;
  maxFailuresPerMinute: number;
}

/** The client spent its budget of failed attempts: the caller answers 429 with Retry-After. */
export class SamlThrottledError extends GatehouseError {
  override name = 'SamlThrottledError';
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 'too many failed SAML assertions from this client');
  }
}

export const defaultWorkerCount = (): number => Math.max(1, Math.min(4, availableParallelism() - 1));

/**
 * The saml2-bearer grant's verifier: the decoded-size cap on the main thread (no work beyond
 * base64 for an oversized assertion), everything else in a fixed pool of worker threads with a
 * bounded queue, and a per-client budget of failed attempts.
 */
export class SamlVerifier {
  private readonly pool: SamlWorkerPool;
  private readonly budget: FailureBudget;

  constructor(
    private readonly settings: SamlSettings,
    pool: Partial<Pick<SamlPoolOptions, 'timeoutMs' | 'workerUrl'>> = {},
    clock: () => number = Date.now,
  ) {
    this.pool = new SamlWorkerPool({ ...pool, size: settings.workers ?? defaultWorkerCount(), queueSize: settings.queueSize });
    this.budget = new FailureBudget(settings.maxFailuresPerMinute, clock);
  }

  /**
   * Runs one attempt of `clientKey` under its budget: throws SamlThrottledError before any work
   * when the client had too many failures in the last minute. `isFailure` tells which errors of
   * `work` count against the budget (an invalid assertion does, a database outage does not).
   */
  async attempt<T>(clientKey: string, work: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T> {
    const wait = this.budget.begin(clientKey);
    if (wait > 0) throw new SamlThrottledError(wait);
    let failed = false;
    try {
      return await work();
    } catch (error) {
      failed = isFailure(error);
      throw error;
    } finally {
      this.budget.end(clientKey, failed);
    }
  }

  /**
   * Decodes the `assertion` parameter here (refusing an oversized one at once) and verifies it
   * in a worker. Rejects as SamlWorkerPool.verify does.
   */
  async verify(assertionParam: string, opts: Pick<SamlVerifyOptions, 'findIdp' | 'skewSeconds'> & { nowSeconds: number }): Promise<SamlBearerClaims> {
    const { maxAssertionBytes: maxBytes, maxElements, maxAttributes } = this.settings;
    const xml = decodeAssertionParam(assertionParam, maxBytes);
    const options = { nowSeconds: opts.nowSeconds, skewSeconds: opts.skewSeconds, maxBytes, maxDepth: DEFAULT_MAX_DEPTH, maxElements, maxAttributes };
    return this.pool.verify(xml, options, opts.findIdp);
  }

  stats(): ReturnType<SamlWorkerPool['stats']> {
    return this.pool.stats();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
