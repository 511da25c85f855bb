import {
  acceptedAudiences,
  acceptedRecipients,
  SamlThrottledError,
  SamlUnavailableError,
  SamlValidationError,
  type SamlIdentityProvider,
  type SamlVerifier,
} from '../../saml/index.js';
import type { IdpStore } from '../../store/idps.js';
import { invalidGrant, OAuthError } from '../errors.js';
import type { TokenIssuer } from '../issuer.js';
import { grantScope, parseScope } from '../scope.js';
import type { Grant, NewGrantStorage, OAuthConfig } from './types.js';

export const SAML2_BEARER = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/** The longest NameID (token subject) and assertion ID (replay cache key) the store keeps. */
export const MAX_NAME_ID_LENGTH = 512;
export const MAX_ASSERTION_ID_LENGTH = 256;

const isInvalidGrant = (err: unknown) => err instanceof OAuthError && err.error === 'invalid_grant';

/** The verifier's refusals in the protocol's terms: invalid_grant, 503 when busy, 429 when throttled. */
function protocolError(err: unknown): unknown {
  if (err instanceof SamlValidationError) return invalidGrant(`Invalid SAML assertion: ${err.description}`);
  if (err instanceof SamlUnavailableError) {
    return new OAuthError('temporarily_unavailable', 'The server is busy verifying SAML assertions; retry shortly.', 503, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  if (err instanceof SamlThrottledError) {
    return new OAuthError('temporarily_unavailable', 'Too many invalid SAML assertions from this client; retry later.', 429, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  return err;
}

/**
 * SAML 2.0 bearer assertion grant (RFC 7522): an application that holds an assertion its IdP
 * signed for a user exchanges it for a user token, without the user signing in again. The
 * subject is the assertion's NameID (a federated user; no local account needed).
 *
 * The session it opens lasts what the IdP asserted (NotOnOrAfter), or `saml.maxSessionSeconds`
 * if set; no refresh token unless `saml.refreshTokens` (as WSO2), and a refresh never extends
 * the session (see the refresh grant).
 */
export function saml2BearerGrant(deps: {
  idps: Pick<IdpStore, 'find' | 'recordAssertion'>;
  tokens: NewGrantStorage;
  issuer: TokenIssuer;
  /** Verifies off the event loop, with the size caps and the per-client failure budget. */
  saml: SamlVerifier;
  /** More token endpoint URLs a Recipient may name (saml.recipients). */
  recipients: readonly string[];
  /** The session policy (saml.refreshTokens, saml.maxSessionSeconds). */
  session: { refreshTokens: boolean; maxSessionSeconds?: number | undefined };
  config: Pick<OAuthConfig, 'issuer' | 'userAccessTokenValidity' | 'timestampSkew'>;
}): Grant {
  const oauthIssuer = deps.config.issuer;
  /** A registered IdP with the Audience and Recipient values this node accepts from it. */
  const findIdp = async (entityId: string): Promise<SamlIdentityProvider | undefined> => {
    const idp = await deps.idps.find(entityId);
    return (
      idp && {
        issuer: idp.issuer,
        certificates: idp.certificates,
        audiences: acceptedAudiences(idp, oauthIssuer),
        recipients: acceptedRecipients(idp, oauthIssuer, deps.recipients),
      }
    );
  };
  return {
    type: SAML2_BEARER,
    parameters: new Set(['assertion', 'scope']),
    allowsPublicClients: false,
    async handle({ client: { client }, params, now }) {
      const assertion = params.require('assertion');
      const scope = grantScope(parseScope(params.get('scope')), client.keyType);
      const exchange = async () => {
        let claims;
        try {
          claims = await deps.saml.verify(assertion, {
            nowSeconds: now,
            skewSeconds: deps.config.timestampSkew,
            findIdp,
          });
        } catch (err) {
          throw protocolError(err);
        }
        // What the store can keep (and what any sane IdP sends): refused, not a database error.
        if (claims.nameId.length > MAX_NAME_ID_LENGTH) throw invalidGrant(`Invalid SAML assertion: the NameID is longer than ${MAX_NAME_ID_LENGTH} characters.`);
        if (claims.assertionId.length > MAX_ASSERTION_ID_LENGTH) {
          throw invalidGrant(`Invalid SAML assertion: the assertion ID is longer than ${MAX_ASSERTION_ID_LENGTH} characters.`);
        }
        // RFC 7522 §3 item 7 allows a replay cache; we keep every ID until the assertion expires.
        if (!(await deps.idps.recordAssertion(claims.issuer, claims.assertionId, claims.notOnOrAfter))) {
          throw invalidGrant('Invalid SAML assertion: it was already exchanged (replay).');
        }
        if (claims.notOnOrAfter - now < 1) throw invalidGrant('Invalid SAML assertion: it has expired.');
        return claims;
      };
      // Failed attempts (invalid_grant) count against the client's budget; past it, 429 at once.
      let claims;
      try {
        claims = await deps.saml.attempt(client.consumerKey, exchange, isInvalidGrant);
      } catch (err) {
        throw protocolError(err);
      }
      // The session ends where the IdP said (NotOnOrAfter), or at saml.maxSessionSeconds from now:
      // no token of it outlives that, the refresh token (if any) included; refreshing never extends it.
      const sessionSeconds = deps.session.maxSessionSeconds ?? claims.notOnOrAfter - now;
      const { tokens, response } = deps.issuer.build({
        client,
        subject: claims.nameId,
        username: null,
        scope,
        grantType: SAML2_BEARER,
        idp: claims.issuer,
        accessTtl: Math.min(deps.config.userAccessTokenValidity, sessionSeconds),
        ...(deps.session.refreshTokens ? { refreshTtl: sessionSeconds } : {}),
        now,
      });
      await deps.tokens.create(tokens);
      return response;
    },
  };
}
