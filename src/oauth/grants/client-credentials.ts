import type { Client } from '../../store/applications.js';
import type { Minted, TokenIssuer } from '../issuer.js';
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
      const { tokens, response } = applicationToken(deps.issuer, client, scope, client.validitySeconds ?? deps.config.accessTokenValidity, now);
      await deps.tokens.create(tokens);
      return response;
    },
  };
}

/**
 * An application token: the owner as subject, no username, no refresh token. What this grant
 * issues, and the Store's "Generate access token" (src/manage/keys.ts) too.
 */
export function applicationToken(issuer: TokenIssuer, client: Client, scope: string[], accessTtl: number, now: number): Minted {
  return issuer.build({ client, subject: client.ownerUsername, username: null, scope, grantType: 'client_credentials', accessTtl, now });
}
