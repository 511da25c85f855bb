import type { RefreshRecord, TokenRecord } from '../store/tokens.js';

/** The narrow storage /revoke and /introspect read tokens through. */
export interface TokenLookup {
  findAccess(tokenKey: string): Promise<TokenRecord | undefined>;
  findRefresh(tokenKey: string): Promise<RefreshRecord | undefined>;
}

export type FoundToken = { kind: 'access_token'; token: TokenRecord } | { kind: 'refresh_token'; token: RefreshRecord };

/**
 * Finds a token by its lookup key for /revoke and /introspect: the type named by
 * `token_type_hint` first, then the other one (RFC 7009 §2.1: a wrong hint falls back;
 * unknown hints are ignored).
 */
export async function findByHint(tokens: TokenLookup, key: string, hint: string | undefined): Promise<FoundToken | undefined> {
  const access = async (): Promise<FoundToken | undefined> => {
    const token = await tokens.findAccess(key);
    return token && { kind: 'access_token', token };
  };
  const refresh = async (): Promise<FoundToken | undefined> => {
    const token = await tokens.findRefresh(key);
    return token && { kind: 'refresh_token', token };
  };
  return hint === 'refresh_token' ? ((await refresh()) ?? (await access())) : ((await access()) ?? (await refresh()));
}
