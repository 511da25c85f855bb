import { LRUCache } from 'lru-cache';

/**
 * A rough size in bytes of a plain value as V8 keeps it: what the caches charge their entries
 * (lru-cache `maxSize` / `sizeCalculation`), so that a cap in bytes holds whatever the entries
 * contain (long application names, many callback URLs) and not only a count. Calibrated on a
 * gateway token entry: ~1.45 KB measured on the heap, ~1.4 KB estimated (with its overhead).
 */
export function approxBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 24 + value.length;
    case 'number':
    case 'boolean':
    case 'undefined':
      return 16;
    case 'object': {
      if (value === null) return 16;
      if (Array.isArray(value)) return value.reduce<number>((n, v) => n + 8 + approxBytes(v), 32);
      let n = 48;
      for (const v of Object.values(value)) n += 16 + approxBytes(v);
      return n;
    }
    default:
      return 16;
  }
}

/**
 * An LRU cache of at most `maxEntries` entries (and, with `maxBytes`, at most that many bytes
 * by `sizeOf`) that allocates as it fills. lru-cache's own `max` preallocates its index arrays
 * for `max` entries at construction: 2.7 MB for 100 000, at start, for a cache that may never
 * fill; a node has a dozen of them (16 MB of its idle heap). Here the count cap is a size cap
 * instead (each entry charged at least `maxBytes / maxEntries`, or 1 when only counted).
 */
export function lruCache<K extends {}, V extends {}>(
  opts: { maxEntries: number; maxBytes?: number; sizeOf?: (value: V, key: K) => number } & Omit<LRUCache.Options<K, V, unknown>, 'max' | 'maxSize' | 'sizeCalculation'>,
): LRUCache<K, V> {
  const { maxEntries, maxBytes, sizeOf, ...rest } = opts;
  if (maxBytes === undefined) return new LRUCache<K, V>({ ...rest, maxSize: maxEntries, sizeCalculation: () => 1 });
  const least = Math.max(1, Math.ceil(maxBytes / maxEntries));
  return new LRUCache<K, V>({ ...rest, maxSize: maxBytes, sizeCalculation: (v, k) => Math.max(least, Math.ceil(sizeOf ? sizeOf(v, k) : 1)) });
}
