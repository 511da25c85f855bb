import type { AuthenticatedClient } from './client-auth.js';
import type { Params } from './params.js';
import { formatScope } from './scope.js';
import { presentedSubject } from './subject.js';
import type { TokenFormat } from './token-format.js';
import { findByHint, type TokenLookup } from './token-lookup.js';

export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: 'Bearer';
  /** Gatehouse's own: which kind of token this is (RFC 7662's token_type is only the access token's type). */
  gatehouse_token_kind?: 'access_token' | 'refresh_token';
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
 *
 * A resource server (an application an admin marked `introspectAll`, RFC 7662 §2.1: the server
 * decides who may introspect) may introspect every client's access tokens; refresh tokens
 * stay visible only to their own client (they are not for resource servers).
 *
 * - `token_type` is `Bearer` for access tokens and absent for refresh tokens (RFC 7662 §2.2
 *   means the RFC 6749 type of an access token); `gatehouse_token_kind` says which one it is.
 * - `sub` of a federated (SAML) token is qualified by its IdP (`<entity ID>|<NameID>`, see
 *   subject.ts) and it has no `username`: no local user authorized it.
 * - `username` is the local user who authorized the token: absent for application
 *   (client_credentials) tokens, whose `sub` is the application's owner (as in WSO2).
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
  const mayRead = t.consumerKey === client.consumerKey || (client.introspectAll && found.kind === 'access_token');
  if (!live || !mayRead || t.revokedAt !== null || t.expiresAt <= now) return INACTIVE;
  const body: IntrospectionResponse = {
    active: true,
    scope: formatScope(t.scope),
    client_id: t.consumerKey,
    ...(found.kind === 'access_token' ? { token_type: 'Bearer' as const } : {}),
    gatehouse_token_kind: found.kind,
    exp: t.expiresAt,
    iat: t.issuedAt,
    sub: presentedSubject(t),
    iss: deps.issuer,
    key_type: t.keyType,
  };
  if (t.username !== null && t.idp === null) body.username = t.username;
  if (t.idp !== null) body.idp = t.idp;
  return body;
}
