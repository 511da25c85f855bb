#!/usr/bin/env node
// Heap held by the gateway's token cache after N distinct valid tokens (cold validations):
//   node --expose-gc bench/growth/cache-memory.mjs [N] [DIST_DIR]
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [n = '100000', dist = path.resolve(import.meta.dirname, '../../dist')] = process.argv.slice(2);
const { TokenValidationCache } = await import(pathToFileURL(path.join(dist, 'gateway/token-cache.js')).href);
const info = (key) => ({ tokenKey: key, grantId: crypto.randomUUID(), consumerKey: randomBytes(21).toString('base64url'), applicationId: crypto.randomUUID(), applicationName: 'bench-app', applicationTier: 'Unlimited', subscriber: 'bench-user', keyType: 'PRODUCTION', endUser: 'bench-user', username: 'bench-user', scope: ['default'], expiresAt: Math.floor(Date.now() / 1000) + 3600 });
const cache = new TokenValidationCache({ lookupAccessToken: async (k) => info(k) }, { ttlSeconds: 300, negativeTtlSeconds: 10 });
global.gc();
const h0 = process.memoryUsage().heapUsed;
for (let i = 0; i < Number(n); i++) await cache.load(randomBytes(32).toString('base64url'));
global.gc();
console.log(JSON.stringify({ dist, tokens: Number(n), cached: cache.size, heapMB: +((process.memoryUsage().heapUsed - h0) / 2 ** 20).toFixed(1), rssMB: +(process.memoryUsage().rss / 2 ** 20).toFixed(0) }));
