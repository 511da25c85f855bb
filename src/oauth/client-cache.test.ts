import { describe, expect, it } from 'vitest';
import type { Client } from '../store/applications.js';
import { CLIENT_CACHE_MAX_BYTES, cachedClients } from './client-cache.js';

const client = (consumerKey: string, callbackUrls: string[]): Client => ({
  consumerKey, keyType: 'PRODUCTION', secretHash: null, validitySeconds: null, applicationId: `app-${consumerKey}`, applicationName: 'App',
  tier: 'Unlimited', ownerUsername: 'alice', callbackUrls, allowedOrigins: [], introspectAll: false,
});

describe('cachedClients', () => {
  it('keeps client records up to a size cap, so large records cannot fill the memory', async () => {
    // each record carries ~1 MB of callback URLs: only 3 fit in the 4 MiB cap
    const urls = Array.from({ length: 1000 }, (_, i) => `https://client.example/${'p'.repeat(1000)}/${i}`);
    let reads = 0;
    const cache = cachedClients({ findClient: async (k) => { reads++; return client(k, urls); }, findClientFresh: async (k) => client(k, urls) }, 60);
    for (let i = 0; i < 10; i++) await cache.findClient(`ck${i}`);
    expect(reads).toBe(10);
    await cache.findClient('ck9');
    await cache.findClient('ck7');
    expect(reads).toBe(10); // the newest are cached
    await cache.findClient('ck0');
    expect(reads).toBe(11); // the oldest was evicted
    expect(CLIENT_CACHE_MAX_BYTES).toBe(4 * 2 ** 20);
  });
});
