/**
 * The few types every layer shares (the data plane included), in one home.
 */

/** Each application has one key pair per key type; a call's key type comes from its consumer key. */
export type KeyType = 'PRODUCTION' | 'SANDBOX';
export const KEY_TYPES: readonly KeyType[] = ['PRODUCTION', 'SANDBOX'];

/**
 * The deepest API context the gateway routes, in path segments (/a/b/c/d): it tries at most
 * this many context lengths per request (src/gateway/routing.ts), and the management service
 * refuses a deeper context (src/manage/rules.ts), so every accepted API can be called.
 */
export const MAX_CONTEXT_SEGMENTS = 4;

/** An API as the Publisher defines it and the gateway routes it. */
export interface ApiDefinition {
  id: string;
  name: string;
  /** '/weather': a leading slash, no trailing one. */
  context: string;
  version: string;
  productionUrl: string;
  sandboxUrl?: string;
  /** The tiers subscribers may choose. */
  tiers: string[];
  /** Backend timeout; the gateway's default when absent. */
  timeoutMs?: number;
  /** Whether the gateway passes the backend an X-JWT-Assertion. */
  sendJwt: boolean;
}

/**
 * Tokens that stopped being valid before their expiry, for caches to drop (the gateway's
 * validation cache, on this node and, through the cluster bus, on every other).
 *
 * `tokenKeys` are lookup keys as the token format computes them (`TokenFormat.key`), the one
 * contract the issuer, the store, these messages and the gateway share. The other fields name
 * every token of a grant, a consumer key, an application or a user at once.
 */
export interface TokenInvalidation {
  tokenKeys?: string[];
  grantIds?: string[];
  consumerKeys?: string[];
  applicationIds?: string[];
  /** Local usernames: the tokens these users authorized (the end user of a call). */
  usernames?: string[];
  /** Identity providers (entity IDs): the tokens of their federated subjects. */
  idps?: string[];
}
