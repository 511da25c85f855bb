import type { RefreshRecord, RotationOutcome } from '../../store/tokens.js';
import type { IssuedTokens } from '../../store/tokens.js';
import { invalidGrant, type OAuthError } from '../errors.js';
import type { TokenIssuer } from '../issuer.js';
import type { Revocation } from '../revocation.js';
import { clientMayHold, grantScope, narrowScope, parseScope } from '../scope.js';
import type { TokenFormat } from '../token-format.js';
import type { Grant, OAuthConfig } from './types.js';
import type { SecurityEventSink } from '../../security-events.js';

/** The narrow storage the refresh grant needs: read the presented token, rotate it. */
export interface RefreshStorage {
  findRefresh(tokenKey: string): Promise<RefreshRecord | undefined>;
  rotate(presented: RefreshRecord, now: number, successors: Required<IssuedTokens>): Promise<RotationOutcome>;
}

/** Whether the identity provider of a federated grant is still trusted. */
export interface IdentityProviderLookup {
  find(issuer: string): Promise<unknown>;
}

const UNKNOWN = 'The refresh token is invalid or was issued to another client.';

/**
 * Refresh (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): each use consumes the refresh token
 * and issues a new pair in the same grant. A consumed token presented again after the grace
 * window is treated as stolen and the whole grant is revoked; within the window (a client's own
 * retry race) it is only refused.
 *
 * The grant reads the presented token, checks it, builds the successors, then asks the store
 * to rotate atomically; a presentation that loses a race is answered as if it had come second.
 *
 * A federated grant (from a SAML assertion) keeps the absolute end its first refresh token got
 * (the session the IdP asserted): its successors never outlive it; and its identity provider
 * must still be registered (one lookup, only for these grants).
 */
export function refreshTokenGrant(deps: {
  tokens: RefreshStorage;
  idps: IdentityProviderLookup;
  issuer: TokenIssuer;
  format: TokenFormat;
  revocation: Pick<Revocation, 'grant'>;
  security?: SecurityEventSink;
  config: Pick<OAuthConfig, 'userAccessTokenValidity' | 'refreshTokenValidity' | 'refreshTokenReuseGrace'>;
}): Grant {
  const refused = async (previous: RefreshRecord, outcome: Exclude<RotationOutcome, { ok: true }>, now: number, address: string): Promise<OAuthError> => {
    switch (outcome.reason) {
      case 'consumed':
        if (now - outcome.consumedAt > deps.config.refreshTokenReuseGrace) {
          await deps.revocation.grant({ id: previous.grantId, consumerKey: previous.consumerKey }, now);
          deps.security?.emit('refresh_token_reuse', {
            client_id: previous.consumerKey,
            user: previous.username,
            subject: previous.subject,
            remote: address,
            reason: 'refresh_token_reused',
            extra: { grant_id: previous.grantId, consumed_seconds_ago: now - outcome.consumedAt },
          });
          return invalidGrant('The refresh token was already used; every token of this grant has been revoked.');
        }
        return invalidGrant('The refresh token was already used.');
      case 'revoked':
        return invalidGrant('The refresh token has been revoked.');
      case 'expired':
        return invalidGrant('The refresh token has expired.');
      default:
        return invalidGrant(UNKNOWN);
    }
  };

  return {
    type: 'refresh_token',
    parameters: new Set(['refresh_token', 'scope']),
    allowsPublicClients: true,
    async handle({ client: { client }, params, now, address }) {
      const presented = params.require('refresh_token');
      const requested = parseScope(params.get('scope'));
      // PRODUCTION/SANDBOX must still match the key; other tokens may only narrow (checked below).
      grantScope(requested, client);
      const previous = await deps.tokens.findRefresh(deps.format.key(presented));
      if (!previous || previous.consumerKey !== client.consumerKey) throw invalidGrant(UNKNOWN);
      if (previous.revokedAt !== null) throw await refused(previous, { ok: false, reason: 'revoked' }, now, address);
      if (previous.consumedAt !== null) throw await refused(previous, { ok: false, reason: 'consumed', consumedAt: previous.consumedAt }, now, address);
      if (previous.expiresAt <= now) throw await refused(previous, { ok: false, reason: 'expired' }, now, address);
      const federated = previous.idp !== null;
      if (federated && !(await deps.idps.find(previous.idp!))) throw invalidGrant('The identity provider of this grant is no longer trusted.');
      const refreshTtl = federated ? previous.expiresAt - now : deps.config.refreshTokenValidity;
      const scope = narrowScope(requested, previous.scope);
      // A public client's grant made before it could not hold manage: it renews only without it.
      clientMayHold(scope, client);

      const { tokens, response } = deps.issuer.build(
        {
          client,
          subject: previous.subject,
          username: previous.username,
          scope,
          grantType: previous.grantType,
          idp: previous.idp,
          accessTtl: Math.min(deps.config.userAccessTokenValidity, refreshTtl),
          refreshTtl,
          // A narrower scope is for this access token only: the grant keeps its scope (RFC 6749 §6).
          refreshScope: previous.scope,
          now,
        },
        previous.grantId,
      );
      const outcome = await deps.tokens.rotate(previous, now, tokens as Required<IssuedTokens>);
      if (!outcome.ok) throw await refused(previous, outcome, now, address);
      return response;
    },
  };
}
