import type { KeyObject } from 'node:crypto';

export type KeyType = 'PRODUCTION' | 'SANDBOX';
export interface GatewayApi { id: string; name: string; context: string /* '/weather', leading slash, no trailing */; version: string; productionUrl: string; sandboxUrl?: string; tiers: string[]; timeoutMs?: number; sendJwt?: boolean; }
export interface TokenInfo { tokenHash: string; grantId: string; consumerKey: string; applicationId: string; applicationName: string; subscriber: string /* application owner's username */; keyType: KeyType; endUser?: string; scope: string[]; expiresAt: number /* epoch seconds */; }
export interface GatewaySubscription { applicationId: string; apiId: string; tier: string; status: 'ACTIVE' | 'BLOCKED'; }
export interface GatewayStore {
  findPublishedApi(context: string, version: string): Promise<GatewayApi | undefined>;
  /**
   * Raw bearer token in (and its sha256, already computed by the cache), undefined when
   * unknown, revoked or expired.
   */
  lookupAccessToken(token: string, tokenHash: string): Promise<TokenInfo | undefined>;
  findSubscription(applicationId: string, apiId: string): Promise<GatewaySubscription | undefined>;
}
export interface TokenInvalidation { tokenHashes?: string[]; grantIds?: string[] }  // tokenHash = sha256(token) as base64url
export interface TierLimit { requests: number; perSeconds: number }
export interface GatewayOptions {
  tiers: Record<string, TierLimit | 'unlimited'>;      // defaults Gold 5000/60, Silver 2000/60, Bronze 1000/60, Unlimited
  tokenCacheTtlSeconds: number;      // positive cache TTL cap (entry lives min(token expiry, this))
  negativeCacheTtlSeconds: number;   // bad-token cache
  apiCacheTtlSeconds: number;        // published API + subscription lookups cache
  defaultTimeoutMs: number;          // backend timeout when the API sets none
  redisUrl?: string;                 // throttling counters shared in Redis when set
  jwt?: { privateKey: CryptoKey | KeyObject; kid: string; alg: 'RS256' | 'ES256'; issuer: string; ttlSeconds: number };
}
