import type { AuthenticatedClient } from './client-auth.js';
import type { Params } from './params.js';
import { formatScope } from './scope.js';
import type { TokenFormat } from './token-format.js';
import { findByHint, type TokenLookup } from './token-lookup.js';

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
  deps: { tokens: TokenLookup; format: TokenFormat; issuer: string },
  { client }: AuthenticatedClient,
  params: Params,
  now: number,
): Promise<IntrospectionResponse> {
  const found = await findByHint(deps.tokens, deps.format.key(params.require('token')), params.get('token_type_hint'));
  if (!found) return INACTIVE;
  const t = found.token;
  const live = found.kind === 'access_token' || found.token.consumedAt === null;
  if (!live || t.consumerKey !== client.consumerKey || t.revokedAt !== null || t.expiresAt <= now) return INACTIVE;
  const body: IntrospectionResponse = {
    active: true,
    scope: formatScope(t.scope),
    client_id: t.consumerKey,
    token_type: found.kind === 'access_token' ? 'Bearer' : 'refresh_token',
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
