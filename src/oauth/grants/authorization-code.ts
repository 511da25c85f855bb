import type { CodeRecord, ConsumeOutcome } from '../../store/codes.js';
import type { TokenRecord, TokenStore } from '../../store/tokens.js';
import { invalidGrant } from '../errors.js';
import type { TokenEvents } from '../events.js';
import type { TokenIssuer } from '../issuer.js';
import { verifierMatches } from '../pkce.js';
import type { TokenFormat } from '../token-format.js';
import type { Grant, OAuthConfig } from './types.js';

/** The narrow storage the code exchange needs. */
export interface CodeExchangeStore {
  find(codeHash: string): Promise<CodeRecord | undefined>;
  consume(codeHash: string, now: number, next: (code: CodeRecord) => { access: TokenRecord; refresh?: TokenRecord }): Promise<ConsumeOutcome>;
}

const INVALID_CODE = 'The authorization code is invalid, expired, or was issued to another client.';

/**
 * Authorization code (RFC 6749 §4.1.3) with PKCE (RFC 7636). Every binding of the code is
 * checked before it is consumed, so a request that would fail anyway (another client, another
 * redirect_uri, a wrong verifier) neither burns the code nor, when it is a replay, revokes the
 * real client's tokens. A replay that is otherwise valid revokes every token of the code's
 * grant (RFC 6749 §4.1.2, RFC 9700 §4.5.3).
 */
export function authorizationCodeGrant(deps: {
  codes: CodeExchangeStore;
  tokens: Pick<TokenStore, 'revokeGrant'>;
  issuer: TokenIssuer;
  format: TokenFormat;
  events: TokenEvents;
  config: Pick<OAuthConfig, 'userAccessTokenValidity' | 'refreshTokenValidity'>;
}): Grant {
  return {
    type: 'authorization_code',
    parameters: new Set(['code', 'redirect_uri', 'code_verifier']),
    allowsPublicClients: true,
    async handle({ client: { client, method }, params, now }) {
      const codeHash = deps.format.key(params.require('code'));
      const redirectUri = params.get('redirect_uri');
      const verifier = params.get('code_verifier');

      const code = await deps.codes.find(codeHash);
      if (!code || code.consumerKey !== client.consumerKey) throw invalidGrant(INVALID_CODE);
      if (code.redirectUriSent ? redirectUri !== code.redirectUri : redirectUri !== undefined && redirectUri !== code.redirectUri) {
        throw invalidGrant('redirect_uri differs from the one in the authorization request.');
      }
      if (code.codeChallenge !== null) {
        if (verifier === undefined) throw invalidGrant('code_verifier is required: the authorization request had a code_challenge.');
        if (!verifierMatches(verifier, code.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge.');
      } else {
        // Downgrade protection (RFC 9700 §2.1.1): a verifier for a code issued without a challenge.
        if (verifier !== undefined) throw invalidGrant('code_verifier was sent, but the authorization request had no code_challenge.');
        if (method === 'none') throw invalidGrant('A public client must use PKCE.');
      }

      let response;
      const outcome = await deps.codes.consume(codeHash, now, (c) => {
        const built = deps.issuer.build(
          {
            client,
            subject: c.subject,
            username: c.username,
            scope: c.scope.split(' ').filter((s) => s !== ''),
            grantType: 'authorization_code',
            accessTtl: deps.config.userAccessTokenValidity,
            refreshTtl: deps.config.refreshTokenValidity,
            now,
          },
          c.grantId,
        );
        response = built.response;
        return { access: built.access, refresh: built.refresh };
      });
      if (outcome.ok) return response!;
      if (outcome.reason === 'consumed') {
        await deps.tokens.revokeGrant(outcome.code.grantId, now);
        deps.events.invalidated({ grantIds: [outcome.code.grantId] });
        throw invalidGrant('The authorization code was already used; every token issued for it has been revoked.');
      }
      throw invalidGrant(outcome.reason === 'expired' ? 'The authorization code has expired.' : INVALID_CODE);
    },
  };
}
