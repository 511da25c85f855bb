import { SamlValidationError, verifySamlBearerAssertion } from '../../saml/index.js';
import type { IdpStore } from '../../store/idps.js';
import { invalidGrant } from '../errors.js';
import type { TokenIssuer } from '../issuer.js';
import { grantScope, parseScope } from '../scope.js';
import type { Grant, NewGrantStorage, OAuthConfig } from './types.js';

export const SAML2_BEARER = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/** The longest NameID (token subject) and assertion ID (replay cache key) the store keeps. */
export const MAX_NAME_ID_LENGTH = 512;
export const MAX_ASSERTION_ID_LENGTH = 256;

/** The audience (WSO2's "alias") an IdP registered without one must name: this node's token endpoint. */
export const defaultSamlAudience = (issuer: string): string => `${issuer}/token`;

/**
 * SAML 2.0 bearer assertion grant (RFC 7522): an application that holds an assertion its IdP
 * signed for a user exchanges it for a user token, without the user signing in again. The
 * subject is the assertion's NameID (a federated user; no local account needed).
 */
export function saml2BearerGrant(deps: {
  idps: Pick<IdpStore, 'find' | 'recordAssertion'>;
  tokens: NewGrantStorage;
  issuer: TokenIssuer;
  /** The audience an IdP registered without an alias must name: this node's token endpoint. */
  defaultAudience: string;
  config: Pick<OAuthConfig, 'userAccessTokenValidity' | 'refreshTokenValidity' | 'timestampSkew'>;
}): Grant {
  return {
    type: SAML2_BEARER,
    parameters: new Set(['assertion', 'scope']),
    allowsPublicClients: false,
    async handle({ client: { client }, params, now }) {
      const assertion = params.require('assertion');
      const scope = grantScope(parseScope(params.get('scope')), client.keyType);
      let claims;
      try {
        claims = await verifySamlBearerAssertion(assertion, {
          nowSeconds: now,
          skewSeconds: deps.config.timestampSkew,
          findIdp: async (issuer) => {
            const idp = await deps.idps.find(issuer);
            return idp && { issuer: idp.issuer, certificates: idp.certificates, audience: idp.alias ?? deps.defaultAudience };
          },
        });
      } catch (err) {
        if (err instanceof SamlValidationError) throw invalidGrant(`Invalid SAML assertion: ${err.description}`);
        throw err;
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
      const remaining = claims.notOnOrAfter - now;
      if (remaining < 1) throw invalidGrant('Invalid SAML assertion: it has expired.');
      const { tokens, response } = deps.issuer.build({
        client,
        subject: claims.nameId,
        username: null,
        scope,
        grantType: SAML2_BEARER,
        idp: claims.issuer,
        accessTtl: Math.min(deps.config.userAccessTokenValidity, remaining),
        refreshTtl: deps.config.refreshTokenValidity,
        now,
      });
      await deps.tokens.create(tokens);
      return response;
    },
  };
}
