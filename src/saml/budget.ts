import type { LRUCache } from 'lru-cache';
import { lruCache } from '../memory.js';

const WINDOW_MS = 60_000;

interface Entry {
  /** When each failure in the last minute happened (ms, oldest first). */
  failures: number[];
  inFlight: number;
}

/**
 * A per-client budget of failed attempts: at most `perMinute` failures in any 60 s, counting
 * attempts still running as failures-to-be (so a burst of concurrent attempts cannot overdraw
 * it). Kept in memory per node; clients with no recent failure and nothing running are forgotten.
 */
export class FailureBudget {
  private readonly entries: LRUCache<string, Entry>;

  constructor(
    private readonly perMinute: number,
    private readonly clock: () => number = Date.now,
    maxClients = 10_000,
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new TypeError('FailureBudget: perMinute must be an integer >= 1');
    this.entries = lruCache({ maxEntries: maxClients });
  }

  /** Starts an attempt: 0 when admitted (call end() once it is over), else the seconds to wait. */
  begin(key: string): number {
    const now = this.clock();
    const entry = this.entries.get(key) ?? { failures: [], inFlight: 0 };
    while (entry.failures.length > 0 && entry.failures[0]! <= now - WINDOW_MS) entry.failures.shift();
    const over = entry.failures.length + entry.inFlight - this.perMinute;
    if (over >= 0) {
      // Admitted again once enough of the counted failures have left the window.
      const freedAt = over < entry.failures.length ? entry.failures[over]! + WINDOW_MS : now + 1000;
      return Math.max(1, Math.ceil((freedAt - now) / 1000));
    }
    entry.inFlight++;
    this.entries.set(key, entry);
    return 0;
  }

  end(key: string, failed: boolean): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    if (failed) entry.failures.push(this.clock());
    if (entry.failures.length === 0 && entry.inFlight === 0) this.entries.delete(key);
  }
}
