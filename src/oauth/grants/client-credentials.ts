import type { TokenIssuer } from '../issuer.js';
import { grantScope, parseScope } from '../scope.js';
import type { Grant, OAuthConfig } from './types.js';

/**
 * Client credentials (RFC 6749 §4.4): an application token whose subject is the
 * application's owner; no refresh token (the client can always ask again).
 */
export function clientCredentialsGrant(deps: { issuer: TokenIssuer; config: Pick<OAuthConfig, 'accessTokenValidity'> }): Grant {
  return {
    type: 'client_credentials',
    parameters: new Set(['scope']),
    allowsPublicClients: false,
    handle({ client: { client }, params, now }) {
      const scope = grantScope(parseScope(params.get('scope')), client.keyType);
      return deps.issuer.issue({
        client,
        subject: client.ownerUsername,
        username: client.ownerUsername,
        scope,
        grantType: 'client_credentials',
        accessTtl: client.validitySeconds ?? deps.config.accessTokenValidity,
        now,
      });
    },
  };
}
