import { invalidGrant } from '../errors.js';
import type { TokenIssuer } from '../issuer.js';
import type { PasswordChecker } from '../password-check.js';
import { grantScope, parseScope } from '../scope.js';
import type { Grant, NewGrantStorage, OAuthConfig } from './types.js';

/** Resource owner password credentials (RFC 6749 §4.3): user tokens for first-party apps. */
export function passwordGrant(deps: {
  passwords: PasswordChecker;
  tokens: NewGrantStorage;
  issuer: TokenIssuer;
  config: Pick<OAuthConfig, 'userAccessTokenValidity' | 'refreshTokenValidity'>;
}): Grant {
  return {
    type: 'password',
    parameters: new Set(['username', 'password', 'scope']),
    allowsPublicClients: false,
    async handle({ client, params, now, address }) {
      const username = params.require('username');
      const password = params.require('password');
      const scope = grantScope(parseScope(params.get('scope')), client.client);
      const result = await deps.passwords.check(username, password, now, { address, client: client.client.consumerKey });
      if (!result.ok) throw invalidGrant('Invalid username or password, or the account is temporarily locked.');
      const { tokens, response } = deps.issuer.build({
        client: client.client,
        subject: result.user.username,
        username: result.user.username,
        scope,
        grantType: 'password',
        accessTtl: deps.config.userAccessTokenValidity,
        refreshTtl: deps.config.refreshTokenValidity,
        now,
      });
      await deps.tokens.create(tokens);
      return response;
    },
  };
}
