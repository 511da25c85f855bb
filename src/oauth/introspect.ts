import type { TokenRecord, TokenStore } from '../store/tokens.js';
import type { AuthenticatedClient } from './client-auth.js';
import type { Params } from './params.js';
import type { TokenFormat } from './token-format.js';

export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  sub?: string;
  iss?: string;
  key_type?: string;
  idp?: string;
}

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * RFC 7662 introspection for the calling client's own tokens. Anything unknown, expired,
 * revoked, rotated away or issued to another client is just `{"active":false}`.
 */
export async function introspectToken(
  deps: { tokens: Pick<TokenStore, 'findAccess' | 'findRefresh'>; format: TokenFormat; issuer: string },
  { client }: AuthenticatedClient,
  params: Params,
  now: number,
): Promise<IntrospectionResponse> {
  const hash = deps.format.key(params.require('token'));
  const hint = params.get('token_type_hint');
  const lookups: Array<() => Promise<{ t: TokenRecord; type: string; live: boolean } | undefined>> = [
    async () => {
      const t = await deps.tokens.findAccess(hash);
      return t && { t, type: 'Bearer', live: true };
    },
    async () => {
      const t = await deps.tokens.findRefresh(hash);
      return t && { t, type: 'refresh_token', live: t.consumedAt === null };
    },
  ];
  if (hint === 'refresh_token') lookups.reverse();
  for (const lookup of lookups) {
    const found = await lookup();
    if (!found) continue;
    const { t } = found;
    if (!found.live || t.consumerKey !== client.consumerKey || t.revokedAt !== null || t.expiresAt <= now) return INACTIVE;
    const body: IntrospectionResponse = {
      active: true,
      scope: t.scope,
      client_id: t.consumerKey,
      token_type: found.type,
      exp: t.expiresAt,
      iat: t.issuedAt,
      sub: t.subject,
      iss: deps.issuer,
      key_type: t.keyType,
    };
    if (t.username !== null) body.username = t.username;
    if (t.idp !== null) body.idp = t.idp;
    return body;
  }
  return INACTIVE;
}
