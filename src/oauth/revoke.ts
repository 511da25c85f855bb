import type { TokenStore } from '../store/tokens.js';
import type { AuthenticatedClient } from './client-auth.js';
import type { TokenEvents } from './events.js';
import type { Params } from './params.js';
import type { TokenFormat } from './token-format.js';

type Kind = 'access_token' | 'refresh_token';

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
  const hint = params.get('token_type_hint');
  const order: Kind[] = hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
  for (const kind of order) {
    if (kind === 'access_token') {
      const t = await deps.tokens.findAccess(hash);
      if (!t) continue;
      if (t.consumerKey === client.consumerKey && t.revokedAt === null && (await deps.tokens.revokeAccess(hash, now))) {
        deps.events.invalidated({ tokenHashes: [hash] });
      }
      return;
    }
    const r = await deps.tokens.findRefresh(hash);
    if (!r) continue;
    if (r.consumerKey === client.consumerKey && r.revokedAt === null) {
      await deps.tokens.revokeGrant(r.grantId, now);
      deps.events.invalidated({ grantIds: [r.grantId] });
    }
    return;
  }
}
