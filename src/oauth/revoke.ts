import type { AuthenticatedClient } from './client-auth.js';
import type { Params } from './params.js';
import type { Revocation } from './revocation.js';
import type { TokenFormat } from './token-format.js';
import { findByHint, type TokenLookup } from './token-lookup.js';

/**
 * RFC 7009 revocation. Revoking a refresh token ends its whole grant (the refresh token and
 * every access token issued in its lineage); revoking an access token ends only that access
 * token, and its refresh token stays usable. Unknown tokens, tokens already revoked and tokens
 * of another client all get the same 200 and change nothing, so the endpoint is no oracle.
 */
export async function revokeToken(
  deps: { tokens: TokenLookup; format: TokenFormat; revocation: Pick<Revocation, 'accessToken' | 'grant'> },
  { client }: AuthenticatedClient,
  params: Params,
  now: number,
): Promise<void> {
  const key = deps.format.key(params.require('token'));
  const found = await findByHint(deps.tokens, key, params.get('token_type_hint'));
  if (!found || found.token.consumerKey !== client.consumerKey || found.token.revokedAt !== null) return;
  if (found.kind === 'access_token') await deps.revocation.accessToken(key, now);
  else await deps.revocation.grant({ id: found.token.grantId, consumerKey: found.token.consumerKey }, now);
}
