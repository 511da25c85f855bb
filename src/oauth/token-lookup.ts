import type { RefreshRecord, TokenRecord, TokenStore } from '../store/tokens.js';

export type FoundToken = { kind: 'access_token'; token: TokenRecord } | { kind: 'refresh_token'; token: RefreshRecord };

/**
 * Finds a token by its hash for /revoke and /introspect: the type named by `token_type_hint`
 * first, then the other one (RFC 7009 §2.1: a wrong hint falls back; unknown hints are ignored).
 */
export async function findByHint(
  tokens: Pick<TokenStore, 'findAccess' | 'findRefresh'>,
  hash: string,
  hint: string | undefined,
): Promise<FoundToken | undefined> {
  const access = async (): Promise<FoundToken | undefined> => {
    const token = await tokens.findAccess(hash);
    return token && { kind: 'access_token', token };
  };
  const refresh = async (): Promise<FoundToken | undefined> => {
    const token = await tokens.findRefresh(hash);
    return token && { kind: 'refresh_token', token };
  };
  return hint === 'refresh_token' ? ((await refresh()) ?? (await access())) : ((await access()) ?? (await refresh()));
}
