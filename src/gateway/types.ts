import type { KeyObject } from 'node:crypto';
import type { ApiDefinition, KeyType, TokenInvalidation } from '../types.js';

export type { KeyType, TokenInvalidation };

/** A published API as the gateway routes it. */
export type GatewayApi = ApiDefinition;

/** What a valid access token lets through: its application, key type and user. */
export interface TokenInfo {
  /** The token's lookup key (see GatewayDeps.tokenKey). */
  tokenKey: string;
  grantId: string;
  consumerKey: string;
  applicationId: string;
  applicationName: string;
  /** The application's tier: one limit for all its calls, across every API, on top of each subscription's. */
  applicationTier: string;
  /** The application owner's username. */
  subscriber: string;
  keyType: KeyType;
  /** Who the call is made for, as backends see it (a local user, or a federated subject qualified by its IdP). */
  endUser?: string;
  /** The local user who authorized the token, if one did. */
  username?: string;
  /** The identity provider of a federated subject. */
  idp?: string;
  scope: string[];
  /** Epoch seconds. */
  expiresAt: number;
}

export interface GatewaySubscription {
  applicationId: string;
  apiId: string;
  tier: string;
  status: 'ACTIVE' | 'BLOCKED';
}

/** The gateway's storage port. Called only on cache misses. */
export interface GatewayStore {
  findPublishedApi(context: string, version: string): Promise<GatewayApi | undefined>;
  /** A live access token by its lookup key; undefined when unknown, revoked or expired. */
  lookupAccessToken(tokenKey: string): Promise<TokenInfo | undefined>;
  findSubscription(applicationId: string, apiId: string): Promise<GatewaySubscription | undefined>;
}

export interface TierLimit {
  requests: number;
  perSeconds: number;
}

export interface GatewayOptions {
  /** Tier name → limit; the node passes the configured `throttling.tiers`. */
  tiers: Record<string, TierLimit | 'unlimited'>;
  /** Positive cache TTL cap: an entry lives min(token expiry, this). */
  tokenCacheTtlSeconds: number;
  /** Cap of the positive token cache, bytes by estimate (default TOKEN_CACHE_MAX_BYTES). */
  tokenCacheBytes?: number;
  /** Bad-token cache. */
  negativeCacheTtlSeconds: number;
  /** While the invalidation channel is down: the oldest cached validation served (default 5). */
  degradedCacheTtlSeconds?: number;
  /** Published API + subscription lookups cache. */
  apiCacheTtlSeconds: number;
  /** Backend timeout when the API sets none. */
  defaultTimeoutMs: number;
  /** Throttling counters shared in Redis when set. */
  redisUrl?: string;
  /**
   * Peers (addresses or CIDR ranges) whose X-Forwarded-For / -Proto / -Host the gateway extends
   * instead of replacing (`gateway.trustedProxies`). Empty: every client's are replaced.
   */
  trustedProxies?: readonly string[];
  jwt?: { privateKey: CryptoKey | KeyObject; kid: string; alg: 'RS256' | 'ES256'; issuer: string; ttlSeconds: number };
}
