export interface SamlIdentityProvider {
  /** Entity ID, matched exactly against `<saml:Issuer>`. */
  issuer: string;
  /** PEM certificates; any of them may verify (key rollover). */
  certificates: string[];
  /** The "alias": must appear as an `<Audience>` and as SubjectConfirmationData/@Recipient. */
  audience: string;
}

export interface SamlVerifyOptions {
  findIdp(issuer: string): SamlIdentityProvider | undefined | Promise<SamlIdentityProvider | undefined>;
  /** Current time in epoch seconds; default `Date.now() / 1000`. */
  nowSeconds?: number;
  /** Clock skew allowance in seconds (oauth.timestampSkew, default 300 at the caller). */
  skewSeconds: number;
  /** Cap on the decoded XML size in bytes; default 65536. */
  maxBytes?: number;
  /** Cap on element nesting depth; default 32. */
  maxDepth?: number;
}

export interface SamlBearerClaims {
  issuer: string;
  assertionId: string;
  nameId: string;
  nameIdFormat?: string;
  audience: string;
  /** Epoch seconds: the earliest of Conditions@NotOnOrAfter and the bearer SubjectConfirmationData@NotOnOrAfter. */
  notOnOrAfter: number;
  notBefore?: number;
  issueInstant?: number;
  sessionIndex?: string;
}

export const DEFAULT_MAX_BYTES = 65536;
export const DEFAULT_MAX_DEPTH = 32;
