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
