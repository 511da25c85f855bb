import type { TokenIssuer } from '../issuer.js';
import { grantScope, parseScope } from '../scope.js';
import type { Grant, NewGrantStorage, OAuthConfig } from './types.js';

/**
 * Client credentials (RFC 6749 §4.4): an application token whose subject is the
 * application's owner (as in WSO2) but with no username, since no user authorized it
 * (introspection shows no `username`); no refresh token (the client can always ask again).
 */
export function clientCredentialsGrant(deps: { tokens: NewGrantStorage; issuer: TokenIssuer; config: Pick<OAuthConfig, 'accessTokenValidity'> }): Grant {
  return {
    type: 'client_credentials',
    parameters: new Set(['scope']),
    allowsPublicClients: false,
    async handle({ client: { client }, params, now }) {
      const scope = grantScope(parseScope(params.get('scope')), client);
      const { tokens, response } = deps.issuer.build({
        client,
        subject: client.ownerUsername,
        username: null,
        scope,
        grantType: 'client_credentials',
        accessTtl: client.validitySeconds ?? deps.config.accessTokenValidity,
        now,
      });
      await deps.tokens.create(tokens);
      return response;
    },
  };
}
