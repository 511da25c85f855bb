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
import type { SecurityEventSink } from '../../security-events.js';

export const SAML2_BEARER = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/** The longest NameID (token subject) and assertion ID (replay cache key) the store keeps. */
export const MAX_NAME_ID_LENGTH = 512;
export const MAX_ASSERTION_ID_LENGTH = 256;

const isInvalidGrant = (err: unknown) => err instanceof OAuthError && err.error === 'invalid_grant';

/**
 * The verifier's fixed descriptions, by kind: the `reason` of a saml_assertion_refused line and
 * the label of gatehouse_oauth_saml_refusals_total (a short, bounded set). First match wins.
 */
const REASONS: [RegExp, string][] = [
  [/replay/, 'replay'],
  [/has expired|Conditions window is empty/, 'expired'],
  [/not yet valid|in the future/, 'not_yet_valid'],
  [/unknown issuer|no usable certificate|identity provider is not configured|no longer trusted/, 'unknown_issuer'],
  [/audience/i, 'audience'],
  [/SubjectConfirmation|[Rr]ecipient/, 'subject_confirmation'],
  [/signature is not valid|digest|not signed|[Ss]ignature|signed/, 'signature'],
  [/too large|too many|nested too deeply|longer than|took too long/, 'limits'],
];
export function samlRefusalReason(description: string): string {
  return REASONS.find(([re]) => re.test(description))?.[1] ?? 'malformed';
}

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
  security?: SecurityEventSink;
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
    async handle({ client: { client }, params, now, address }) {
      const assertion = params.require('assertion');
      /** One line per refusal (throttled ones rate-limited per client and address); never the assertion. */
      const refused = (reason: string, detail: string, claims?: { issuer: string; nameId: string }) =>
        deps.security?.emit(
          'saml_assertion_refused',
          { client_id: client.consumerKey, subject: claims?.nameId, remote: address, reason, extra: { idp: claims?.issuer ?? null, detail } },
          reason === 'throttled' ? { limitKey: `saml ${client.consumerKey} ${address}` } : {},
        );
      const scope = grantScope(parseScope(params.get('scope')), client);
      const exchange = async () => {
        let claims;
        try {
          claims = await deps.saml.verify(assertion, {
            nowSeconds: now,
            skewSeconds: deps.config.timestampSkew,
            findIdp,
          });
        } catch (err) {
          if (err instanceof SamlValidationError) refused(samlRefusalReason(err.description), err.description);
          throw protocolError(err);
        }
        // What the store can keep (and what any sane IdP sends): refused, not a database error.
        if (claims.nameId.length > MAX_NAME_ID_LENGTH || claims.assertionId.length > MAX_ASSERTION_ID_LENGTH) {
          refused('limits', 'the NameID or assertion ID is longer than the store keeps', { issuer: claims.issuer, nameId: claims.nameId.slice(0, 128) });
        }
        if (claims.nameId.length > MAX_NAME_ID_LENGTH) throw invalidGrant(`Invalid SAML assertion: the NameID is longer than ${MAX_NAME_ID_LENGTH} characters.`);
        if (claims.assertionId.length > MAX_ASSERTION_ID_LENGTH) {
          throw invalidGrant(`Invalid SAML assertion: the assertion ID is longer than ${MAX_ASSERTION_ID_LENGTH} characters.`);
        }
        // RFC 7522 §3 item 7 allows a replay cache; we keep every ID until the assertion expires.
        if (!(await deps.idps.recordAssertion(claims.issuer, claims.assertionId, claims.notOnOrAfter))) {
          refused('replay', 'the assertion was already exchanged', claims);
          throw invalidGrant('Invalid SAML assertion: it was already exchanged (replay).');
        }
        if (claims.notOnOrAfter - now < 1) {
          refused('expired', 'the assertion has expired', claims);
          throw invalidGrant('Invalid SAML assertion: it has expired.');
        }
        return claims;
      };
      // Failed attempts (invalid_grant) count against the client's budget; past it, 429 at once.
      let claims;
      try {
        claims = await deps.saml.attempt(client.consumerKey, exchange, isInvalidGrant);
      } catch (err) {
        if (err instanceof SamlThrottledError) refused('throttled', 'too many invalid assertions from this client');
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
