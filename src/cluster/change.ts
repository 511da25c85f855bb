import type { TokenInvalidation } from '../types.js';

/**
 * What a node must forget when the management plane changes something it may have cached.
 * A change is applied by every node: at once by the node that made it, and by the others
 * (and by the server when the CLI made it in another process) from the change feed.
 *
 * - `tokens`: validations the gateway cached (revoked tokens, a deleted application's, a
 *   changed application's tier or name);
 * - `clients`: client records the token endpoint cached (a regenerated secret, a deleted key,
 *   changed callback URLs or CORS origins);
 * - `apis`: the gateway's published-API and subscription lookups;
 * - `signingKeys`: the JWT signing keys (a rotation): the node reads them again.
 */
export type Change =
  | { kind: 'tokens'; invalidation: TokenInvalidation }
  | { kind: 'clients'; consumerKeys: string[] }
  | { kind: 'apis' }
  | { kind: 'signingKeys' };

/** Where a node applies a change to its caches. */
export type ChangeSink = (change: Change) => void;

export function parseChange(kind: string, payload: string): Change | undefined {
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    if (kind === 'tokens' && typeof body.invalidation === 'object' && body.invalidation !== null) {
      return { kind, invalidation: body.invalidation as TokenInvalidation };
    }
    if (kind === 'clients' && Array.isArray(body.consumerKeys)) return { kind, consumerKeys: body.consumerKeys.filter((k): k is string => typeof k === 'string') };
    if (kind === 'apis' || kind === 'signingKeys') return { kind };
  } catch {
    // a row this version cannot read: the caller treats it as unknown
  }
  return undefined;
}
