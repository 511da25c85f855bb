/**
 * Which Audience and Recipient values this node accepts (RFC 7522 §3 items 2 and 3). The two
 * are different things: the Audience names the authorization server (its entity ID, or its
 * token endpoint URL), the bearer Recipient names the token endpoint the assertion is delivered to.
 */

/** Audiences accepted from an IdP that registered none: oauth.issuer and its token endpoint URL. */
export const defaultAudiences = (issuer: string): string[] => [issuer, `${issuer}/token`];

/**
 * The token endpoint URLs this node serves: `/token` and `/login`, which is the same endpoint
 * (WSO2's alias for it), not a sign-in page or a SAML ACS.
 */
export const tokenEndpointUrls = (issuer: string): string[] => [`${issuer}/token`, `${issuer}/login`];

const unique = (values: string[]): string[] => [...new Set(values)];

/** An IdP's registered `--audience` values and its `--alias`; the defaults when it has neither. */
export function acceptedAudiences(idp: { alias: string | null; audiences: readonly string[] }, issuer: string): string[] {
  const registered = unique([...idp.audiences, ...(idp.alias === null ? [] : [idp.alias])]);
  return registered.length > 0 ? registered : defaultAudiences(issuer);
}

/**
 * Recipients accepted from an IdP: this node's token endpoint URLs, the ones the operator
 * configured (`saml.recipients`, e.g. the URL a reverse proxy publishes) and the IdP's `--alias`
 * (which WSO2 compared against both Audience and Recipient).
 */
export function acceptedRecipients(idp: { alias: string | null }, issuer: string, configured: readonly string[]): string[] {
  return unique([...tokenEndpointUrls(issuer), ...configured, ...(idp.alias === null ? [] : [idp.alias])]);
}
