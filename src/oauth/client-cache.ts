import { approxBytes, lruCache } from '../memory.js';
import type { Client } from '../store/applications.js';
import type { ClientLookup } from './client-auth.js';

/** At most this much of client records (by {@link approxBytes}), besides the 10 000-record count cap. */
export const CLIENT_CACHE_MAX_BYTES = 4 * 2 ** 20;

/**
 * Client records (consumer key → application, key type, secret hash) kept for a few seconds,
 * so the token endpoint does not read them for every request. A secret regenerated elsewhere
 * (the CLI, another node) works at once: a mismatch re-reads the stored record; and the old one
 * stops working as soon as the change reaches this node (`forget`, from the change feed), with
 * `ttlSeconds` (`oauth.clientCacheTtl`, 0 disables the cache) only as the last bound.
 * Unknown keys are not cached, so a new key works at once.
 */
export function cachedClients(store: ClientLookup, ttlSeconds: number): ClientLookup {
  if (ttlSeconds <= 0) return store;
  const cache = lruCache<string, Client>({
    maxEntries: 10_000,
    maxBytes: CLIENT_CACHE_MAX_BYTES,
    sizeOf: (client, key) => 200 + key.length + approxBytes(client),
    ttl: ttlSeconds * 1000,
    ttlAutopurge: false,
  });
  const fresh = async (key: string) => {
    const client = await store.findClient(key);
    if (client) cache.set(key, client);
    else cache.delete(key);
    return client;
  };
  return {
    findClient: async (key) => cache.get(key) ?? fresh(key),
    findClientFresh: fresh,
    forget: (keys) => {
      for (const k of keys) cache.delete(k);
    },
  };
}
