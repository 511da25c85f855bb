// Builders for SAML 2.0 bearer assertions with an enveloped-signature template (empty
// DigestValue/SignatureValue), to be filled by xmlsec1 or by the in-process test signer.

export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALG = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  excC14nWithComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  ecdsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  hmacSha1: 'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
  hmacSha256: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
} as const;

/** Fixed clock for all tests: 2026-01-15T12:00:00Z. */
export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
export const SKEW = 300;

export const ISSUER = 'https://idp.example.org/saml';
export const AUDIENCE = 'https://gatehouse.example.com/oauth2/token';

export function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

export interface SignatureTemplateOptions {
  referenceUri: string;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  c14nAlgorithm?: string;
  transforms?: string[];
  /** Inner XML of ds:KeyInfo; omitted when undefined. */
  keyInfo?: string;
}

export function signatureTemplate(o: SignatureTemplateOptions): string {
  const transforms = (o.transforms ?? [ALG.enveloped, ALG.excC14n])
    .map((t) => `<ds:Transform Algorithm="${t}"/>`)
    .join('');
  return (
    `<ds:Signature xmlns:ds="${DS_NS}">` +
    `<ds:SignedInfo>` +
    `<ds:CanonicalizationMethod Algorithm="${o.c14nAlgorithm ?? ALG.excC14n}"/>` +
    `<ds:SignatureMethod Algorithm="${o.signatureAlgorithm ?? ALG.rsaSha256}"/>` +
    `<ds:Reference URI="${o.referenceUri}">` +
    `<ds:Transforms>${transforms}</ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${o.digestAlgorithm ?? ALG.sha256}"/>` +
    `<ds:DigestValue></ds:DigestValue>` +
    `</ds:Reference>` +
    `</ds:SignedInfo>` +
    `<ds:SignatureValue></ds:SignatureValue>` +
    (o.keyInfo === undefined ? '' : `<ds:KeyInfo>${o.keyInfo}</ds:KeyInfo>`) +
    `</ds:Signature>`
  );
}

export interface AssertionOptions {
  id?: string;
  issuer?: string;
  nameId?: string;
  nameIdFormat?: string | null;
  audience?: string | null;
  recipient?: string | null;
  method?: string;
  issueInstant?: string;
  notBefore?: string | null;
  notOnOrAfter?: string | null;
  scNotOnOrAfter?: string | null;
  /** false: a bearer SubjectConfirmation without SubjectConfirmationData. */
  confirmationData?: boolean;
  sessionIndex?: string | null;
  /** Raw XML replacing the whole Subject element. */
  subjectXml?: string;
  /** Raw XML inserted after Conditions (e.g. Advice). */
  extraXml?: string;
  /** The ds:Signature (template); '' for an unsigned assertion. */
  signature?: string;
  signatureOptions?: Partial<SignatureTemplateOptions>;
  pretty?: boolean;
}

export const DEFAULT_ID = '_a75adf55-01d7-40cc-929f-dbd8372ebdfc';

export function assertionXml(o: AssertionOptions = {}): string {
  const id = o.id ?? DEFAULT_ID;
  const nl = o.pretty ? '\n  ' : '';
  const signature = o.signature ?? signatureTemplate({ referenceUri: `#${id}`, ...o.signatureOptions });
  const nameIdFormat =
    o.nameIdFormat === null ? '' : ` Format="${o.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'}"`;
  const scAttrs = [
    o.recipient === null ? '' : ` Recipient="${o.recipient ?? AUDIENCE}"`,
    o.scNotOnOrAfter === null ? '' : ` NotOnOrAfter="${o.scNotOnOrAfter ?? iso(NOW + 300)}"`,
  ].join('');
  const subject =
    o.subjectXml ??
    `<saml:Subject>${nl}<saml:NameID${nameIdFormat}>${o.nameId ?? 'alice@example.org'}</saml:NameID>${nl}` +
      `<saml:SubjectConfirmation Method="${o.method ?? 'urn:oasis:names:tc:SAML:2.0:cm:bearer'}">` +
      (o.confirmationData === false ? '' : `<saml:SubjectConfirmationData${scAttrs}/>`) +
      `</saml:SubjectConfirmation>${nl}</saml:Subject>`;
  const condAttrs = [
    o.notBefore === null ? '' : ` NotBefore="${o.notBefore ?? iso(NOW - 120)}"`,
    o.notOnOrAfter === null ? '' : ` NotOnOrAfter="${o.notOnOrAfter ?? iso(NOW + 600)}"`,
  ].join('');
  const audience =
    o.audience === null ? '' : `<saml:AudienceRestriction><saml:Audience>${o.audience ?? AUDIENCE}</saml:Audience></saml:AudienceRestriction>`;
  const authn =
    `<saml:AuthnStatement AuthnInstant="${iso(NOW - 90)}"${o.sessionIndex === null ? '' : ` SessionIndex="${o.sessionIndex ?? '_session-42'}"`}>` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>` +
    `</saml:AuthnStatement>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<saml:Assertion xmlns:saml="${SAML_NS}" ID="${id}" Version="2.0" IssueInstant="${o.issueInstant ?? iso(NOW - 60)}">${nl}` +
    `<saml:Issuer>${o.issuer ?? ISSUER}</saml:Issuer>${nl}` +
    `${signature}${nl}` +
    `${subject}${nl}` +
    `<saml:Conditions${condAttrs}>${audience}</saml:Conditions>${nl}` +
    (o.extraXml ?? '') +
    `${authn}\n` +
    `</saml:Assertion>\n`
  );
}

export function b64url(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64url');
}
