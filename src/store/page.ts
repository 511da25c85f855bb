/** One page of a list, in a stable order, and where the next one starts (undefined: the last page). */
export interface StorePage<T, K> {
  items: T[];
  next: K | undefined;
}

/**
 * Fetches `limit + 1` rows to learn whether there is a next page; the next page starts after
 * the last item returned (keyset pagination: stable under inserts, no OFFSET scans).
 */
export function pageOf<T, K>(rows: T[], limit: number, keyOf: (row: T) => K): StorePage<T, K> {
  if (rows.length <= limit) return { items: rows, next: undefined };
  const items = rows.slice(0, limit);
  return { items, next: keyOf(items[items.length - 1]!) };
}
