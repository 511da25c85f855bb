/** One store call per key at a time: concurrent lookups of the same key share its promise. */
export function coalesce<T>(pending: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  const inFlight = pending.get(key);
  if (inFlight !== undefined) return inFlight;
  const created = load();
  pending.set(key, created);
  const settle = (): void => {
    if (pending.get(key) === created) pending.delete(key);
  };
  created.then(settle, settle);
  return created;
}
