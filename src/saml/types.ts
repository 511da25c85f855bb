export interface SamlIdentityProvider {
  /** Entity ID, matched exactly against `<saml:Issuer>`. */
  issuer: string;
  /** PEM certificates; any of them may verify (key rollover). */
  certificates: string[];
  /**
   * The audiences (RFC 7522 §3 item 2) this server accepts from the IdP: every
   * `<AudienceRestriction>` must name one of them.
   */
  audiences: string[];
  /**
   * The token endpoint URLs (and aliases) a bearer `SubjectConfirmationData@Recipient` may name
   * (RFC 7522 §3 item 3).
   */
  recipients: string[];
}

/** Caps on the received document, applied before any signature work. */
export interface SamlDocumentLimits {
  /** Cap on the decoded XML size in bytes; default 16384. */
  maxBytes?: number;
  /** Cap on element nesting depth; default 32. */
  maxDepth?: number;
  /** Cap on the number of elements in the document; default 512. */
  maxElements?: number;
  /** Cap on the number of attributes (namespace declarations included) in the document; default 1024. */
  maxAttributes?: number;
}

export interface SamlVerifyOptions extends SamlDocumentLimits {
  findIdp(issuer: string): SamlIdentityProvider | undefined | Promise<SamlIdentityProvider | undefined>;
  /** Current time in epoch seconds; default `Date.now() / 1000`. */
  nowSeconds?: number;
  /** Clock skew allowance in seconds (oauth.timestampSkew, default 300 at the caller). */
  skewSeconds: number;
}

export interface SamlBearerClaims {
  issuer: string;
  assertionId: string;
  nameId: string;
  nameIdFormat?: string;
  /** The accepted audience the assertion named (the first one of its first AudienceRestriction). */
  audience: string;
  /**
   * Epoch seconds: the earliest of Conditions@NotOnOrAfter and the bearer
   * SubjectConfirmationData@NotOnOrAfter (when the confirmation has data).
   */
  notOnOrAfter: number;
  notBefore?: number;
  issueInstant?: number;
  sessionIndex?: string;
}

export const DEFAULT_MAX_BYTES = 16384;
export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_ELEMENTS = 512;
export const DEFAULT_MAX_ATTRIBUTES = 1024;
