import type { TokenStore } from '../store/tokens.js';
import type { AuthenticatedClient } from './client-auth.js';
import type { TokenEvents } from './events.js';
import type { Params } from './params.js';
import type { TokenFormat } from './token-format.js';
import { findByHint } from './token-lookup.js';

/**
 * RFC 7009 revocation. Revoking a refresh token ends its whole grant (the refresh token and
 * every access token issued in its lineage); revoking an access token ends only that access
 * token, and its refresh token stays usable. Unknown tokens, tokens already revoked and tokens
 * of another client all get the same 200 and change nothing, so the endpoint is no oracle.
 */
export async function revokeToken(
  deps: { tokens: Pick<TokenStore, 'findAccess' | 'findRefresh' | 'revokeAccess' | 'revokeGrant'>; format: TokenFormat; events: TokenEvents },
  { client }: AuthenticatedClient,
  params: Params,
  now: number,
): Promise<void> {
  const hash = deps.format.key(params.require('token'));
  const found = await findByHint(deps.tokens, hash, params.get('token_type_hint'));
  if (!found || found.token.consumerKey !== client.consumerKey || found.token.revokedAt !== null) return;
  if (found.kind === 'access_token') {
    if (await deps.tokens.revokeAccess(hash, now)) deps.events.invalidated({ tokenHashes: [hash] });
    return;
  }
  await deps.tokens.revokeGrant(found.token.grantId, now);
  deps.events.invalidated({ grantIds: [found.token.grantId] });
}
