import { lruCache } from '../memory.js';
import type { Logger } from 'pino';
import { errorField } from '../log.js';

/**
 * The gateway's one way to log from the request path without flooding: `every` logs a given
 * key at most once per interval (a store or Redis outage), `once` logs a key once for as long
 * as it is remembered (a configuration error: an unknown tier, a bad backend URL). Keys are
 * kept in a bounded LRU, so ten thousand distinct problems are remembered, not forgotten at
 * a round number and repeated.
 */
export class RateLimitedLog {
  private readonly seen = lruCache<string, number>({ maxEntries: 10_000 });

  constructor(private readonly logger: Logger | undefined) {}

  /** At most one `warn` line per key per `intervalMs`, with the fields given. */
  every(key: string, intervalMs: number, msg: string, err?: unknown, fields?: Record<string, unknown>): void {
    const now = Date.now();
    const last = this.seen.get(key);
    if (last !== undefined && now - last < intervalMs) return;
    this.seen.set(key, now);
    this.write('warn', msg, err, fields);
  }

  /** One `error` line per key. */
  once(key: string, msg: string): void {
    if (this.seen.has(key)) return;
    this.seen.set(key, Date.now());
    this.write('error', msg);
  }

  private write(level: 'warn' | 'error', msg: string, err?: unknown, fields?: Record<string, unknown>): void {
    if (this.logger !== undefined) {
      const e = err === undefined ? undefined : errorField(err);
      if (e === undefined && fields === undefined) this.logger[level](msg);
      else this.logger[level]({ ...fields, ...(e === undefined ? {} : { err: e }) }, msg);
    } else {
      const e = err === undefined ? undefined : err instanceof Error ? err.message : String(err);
      process.emitWarning(e === undefined ? msg : `${msg}: ${e}`);
    }
  }
}
