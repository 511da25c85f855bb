import type { CodeRecord, ExchangeOutcome } from '../../store/codes.js';
import type { IssuedTokens } from '../../store/tokens.js';
import { invalidGrant, invalidRequest } from '../errors.js';
import type { TokenIssuer } from '../issuer.js';
import { verifierMatches } from '../pkce.js';
import type { Revocation } from '../revocation.js';
import type { TokenFormat } from '../token-format.js';
import type { Grant, OAuthConfig } from './types.js';
import type { SecurityEventSink } from '../../security-events.js';

/** The narrow storage the code exchange needs: read a code, consume it with its tokens. */
export interface CodeExchangeStorage {
  find(codeHash: string): Promise<CodeRecord | undefined>;
  exchange(codeHash: string, now: number, tokens: IssuedTokens): Promise<ExchangeOutcome>;
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
  codes: CodeExchangeStorage;
  issuer: TokenIssuer;
  format: TokenFormat;
  revocation: Pick<Revocation, 'grant'>;
  security?: SecurityEventSink;
  config: Pick<OAuthConfig, 'userAccessTokenValidity' | 'refreshTokenValidity'>;
}): Grant {
  return {
    type: 'authorization_code',
    parameters: new Set(['code', 'redirect_uri', 'code_verifier']),
    allowsPublicClients: true,
    async handle({ client: { client, method }, params, now, address }) {
      const codeHash = deps.format.key(params.require('code'));
      const redirectUri = params.get('redirect_uri');
      const verifier = params.get('code_verifier');

      const code = await deps.codes.find(codeHash);
      if (!code || code.consumerKey !== client.consumerKey) throw invalidGrant(INVALID_CODE);
      // Its user was locked or removed after the code was issued: no tokens for them.
      if (code.userBarred) throw invalidGrant(INVALID_CODE);
      // RFC 6749 §4.1.3: required when the authorization request had one; missing is invalid_request (§5.2)
      if (code.redirectUriSent && redirectUri === undefined) throw invalidRequest("missing parameter 'redirect_uri': the authorization request had one.");
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

      const { tokens, response } = deps.issuer.build(
        {
          client,
          subject: code.subject,
          username: code.username,
          scope: code.scope,
          grantType: 'authorization_code',
          accessTtl: deps.config.userAccessTokenValidity,
          refreshTtl: deps.config.refreshTokenValidity,
          now,
        },
        code.grantId,
      );
      const outcome = await deps.codes.exchange(codeHash, now, tokens);
      if (outcome.ok) return response;
      if (outcome.reason === 'consumed') {
        await deps.revocation.grant({ id: code.grantId, consumerKey: code.consumerKey }, now);
        deps.security?.emit('authorization_code_reuse', {
          client_id: client.consumerKey,
          user: code.username,
          subject: code.subject,
          remote: address,
          reason: 'authorization_code_reused',
          extra: { grant_id: code.grantId },
        });
        throw invalidGrant('The authorization code was already used; every token issued for it has been revoked.');
      }
      throw invalidGrant(outcome.reason === 'expired' ? 'The authorization code has expired.' : INVALID_CODE);
    },
  };
}
