import type { TokenStore } from '../../store/tokens.js';
import { invalidGrant } from '../errors.js';
import type { TokenEvents } from '../events.js';
import type { TokenIssuer } from '../issuer.js';
import { grantScope, narrowScope, parseScope } from '../scope.js';
import type { TokenFormat } from '../token-format.js';
import type { Grant, OAuthConfig } from './types.js';

/**
 * Refresh (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): each use consumes the refresh token
 * and issues a new pair in the same grant. A consumed token presented again after the grace
 * window is treated as stolen and the whole grant is revoked; within the window (a client's own
 * retry race) it is only refused.
 */
export function refreshTokenGrant(deps: {
  tokens: Pick<TokenStore, 'rotate' | 'revokeGrant'>;
  issuer: TokenIssuer;
  format: TokenFormat;
  events: TokenEvents;
  config: Pick<OAuthConfig, 'userAccessTokenValidity' | 'refreshTokenValidity' | 'refreshTokenReuseGrace'>;
}): Grant {
  return {
    type: 'refresh_token',
    parameters: new Set(['refresh_token', 'scope']),
    allowsPublicClients: true,
    async handle({ client: { client }, params, now }) {
      const presented = params.require('refresh_token');
      const requested = parseScope(params.get('scope'));
      // PRODUCTION/SANDBOX must still match the key; other tokens may only narrow (checked below).
      grantScope(requested, client.keyType);
      let response;
      const outcome = await deps.tokens.rotate(deps.format.key(presented), client.consumerKey, now, (previous) => {
        const granted = previous.scope.split(' ').filter((t) => t !== '');
        const scope = narrowScope(requested, granted);
        const built = deps.issuer.build(
          {
            client,
            subject: previous.subject,
            username: previous.username,
            scope,
            grantType: previous.grantType,
            idp: previous.idp,
            accessTtl: deps.config.userAccessTokenValidity,
            refreshTtl: deps.config.refreshTokenValidity,
            // A narrower scope is for this access token only: the grant keeps its scope (RFC 6749 §6).
            refreshScope: granted,
            now,
          },
          previous.grantId,
        );
        response = built.response;
        return { access: built.access, refresh: built.refresh! };
      });
      if (outcome.ok) return response!;
      switch (outcome.reason) {
        case 'consumed':
          if (now - outcome.consumedAt > deps.config.refreshTokenReuseGrace) {
            await deps.tokens.revokeGrant(outcome.grantId, now);
            deps.events.invalidated({ grantIds: [outcome.grantId] });
            throw invalidGrant('The refresh token was already used; every token of this grant has been revoked.');
          }
          throw invalidGrant('The refresh token was already used.');
        case 'revoked':
          throw invalidGrant('The refresh token has been revoked.');
        case 'expired':
          throw invalidGrant('The refresh token has expired.');
        default:
          throw invalidGrant('The refresh token is invalid or was issued to another client.');
      }
    },
  };
}
