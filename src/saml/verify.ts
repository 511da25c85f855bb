import type { Element } from '@xmldom/xmldom';
import { decodeAssertionParam } from './base64.js';
import { SamlValidationError, fail } from './errors.js';
import { canonicalizeParsedAssertion, checkSignatureLayout, verifyWithCertificates } from './signature.js';
import { parseDateTimeMs } from './time.js';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  type SamlBearerClaims,
  type SamlIdentityProvider,
  type SamlVerifyOptions,
} from './types.js';
import { NS, attr, childElements, descendants, is, parseStrictXml, simpleText } from './xml.js';

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
const NCNAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const TEXT_NODE = 3;
/** Names of XML-DSig signature-structure elements that may exist only inside the one Signature. */
const DSIG_STRUCTURE = new Set([
  'Signature', 'SignedInfo', 'SignatureValue', 'CanonicalizationMethod', 'SignatureMethod',
  'Reference', 'Transforms', 'Transform', 'DigestMethod', 'DigestValue', 'Object', 'Manifest',
]);
const ASSERTION_CHILDREN = new Set([
  'Issuer', 'Subject', 'Conditions', 'Advice', 'Statement', 'AuthnStatement', 'AuthzDecisionStatement', 'AttributeStatement',
]);

export interface SamlVerification {
  claims: SamlBearerClaims;
  /** Exclusive-c14n of the Assertion without its Signature: exactly the bytes whose digest was signed. */
  signedXml: string;
}

interface Envelope {
  root: Element;
  assertionId: string;
  signature: Element | undefined;
}

/**
 * Document-level checks shared by the received document and the signed canonical bytes:
 * the root is one SAML 2.0 Assertion with a valid ID, no other Assertion anywhere, no two ID-like
 * attributes (ID/Id/id in any namespace or case) with the same value, at most one ds:Signature and
 * it is a direct child of the root, and no signature-structure elements outside of it.
 */
function checkEnvelope(root: Element): Envelope {
  if (!is(root, NS.saml, 'Assertion')) fail('document root is not a SAML 2.0 Assertion');
  if (attr(root, 'Version') !== '2.0') fail('assertion Version must be 2.0');
  const assertionId = attr(root, 'ID');
  if (assertionId === undefined || !NCNAME.test(assertionId)) fail('assertion ID is missing or invalid');

  const ids = new Set<string>();
  const signatures: Element[] = [];
  let signedInfos = 0;
  for (const el of descendants(root)) {
    if (el !== root && is(el, NS.saml, 'Assertion')) fail('the document must contain exactly one Assertion');
    if (is(el, NS.ds, 'Signature')) signatures.push(el);
    if (el.localName === 'SignedInfo') signedInfos++;
    for (const a of Array.from(el.attributes)) {
      if ((a.localName ?? a.name).toLowerCase() !== 'id') continue;
      if (ids.has(a.value)) fail('duplicate ID attribute values are not allowed');
      ids.add(a.value);
    }
  }
  if (signatures.length > 1 || signedInfos > 1) fail('the document must contain exactly one Signature');
  const signature = signatures[0];
  if (signature && signature.parentNode !== root) fail('Signature must be a direct child of the Assertion');
  for (const el of descendants(root)) {
    if (el.namespaceURI === NS.ds && DSIG_STRUCTURE.has(el.localName ?? '') && signature && !isInside(el, signature)) {
      fail('signature elements outside the Signature are not allowed');
    }
  }
  return { root, assertionId, signature };
}

function isInside(el: Element, ancestor: Element): boolean {
  for (let node: Element | null = el; node; node = node.parentNode as Element | null) {
    if (node === ancestor) return true;
  }
  return false;
}

function readIssuer(issuerEl: Element | undefined): string {
  if (!issuerEl || !is(issuerEl, NS.saml, 'Issuer')) fail('assertion must start with an Issuer');
  const format = attr(issuerEl, 'Format');
  if (format !== undefined && format !== ENTITY_FORMAT) fail('Issuer Format must be the entity format');
  const issuer = simpleText(issuerEl, 'Issuer');
  if (issuer.trim() === '') fail('Issuer is empty');
  return issuer;
}

function seconds(ms: number, round: 'floor' | 'ceil'): number {
  return round === 'floor' ? Math.floor(ms / 1000) : Math.ceil(ms / 1000);
}

function optionalDate(el: Element, name: string, what: string): number | undefined {
  const value = attr(el, name);
  return value === undefined ? undefined : parseDateTimeMs(value, what);
}

/** RFC 7522 section 3 checks and claim extraction, on the re-parsed signed bytes only. */
function extractClaims(root: Element, assertionId: string, issuer: string, idp: SamlIdentityProvider, nowMs: number, skewMs: number): SamlBearerClaims {
  const children = childElements(root);
  for (const el of children) {
    if (el.namespaceURI !== NS.saml || !ASSERTION_CHILDREN.has(el.localName ?? '')) fail('unexpected element in the Assertion');
  }
  if (readIssuer(children[0]) !== issuer) fail('signed Issuer does not match');
  if (children.filter((el) => el.localName === 'Issuer').length !== 1) fail('assertion must have exactly one Issuer');

  const issueInstantValue = attr(root, 'IssueInstant');
  if (issueInstantValue === undefined) fail('assertion has no IssueInstant');
  const issueInstant = parseDateTimeMs(issueInstantValue, 'IssueInstant');
  if (issueInstant > nowMs + skewMs) fail('assertion IssueInstant is in the future');

  // Conditions: validity window and audience restriction.
  const conditionsList = children.filter((el) => el.localName === 'Conditions');
  if (conditionsList.length > 1) fail('assertion must not have more than one Conditions');
  const conditions = conditionsList[0];
  if (!conditions) fail('assertion has no Conditions with an AudienceRestriction');
  const notBefore = optionalDate(conditions, 'NotBefore', 'Conditions NotBefore');
  const conditionsNotOnOrAfter = optionalDate(conditions, 'NotOnOrAfter', 'Conditions NotOnOrAfter');
  if (conditionsNotOnOrAfter !== undefined && nowMs >= conditionsNotOnOrAfter + skewMs) fail('assertion has expired');
  if (notBefore !== undefined && nowMs + skewMs < notBefore) fail('assertion is not yet valid');
  if (notBefore !== undefined && conditionsNotOnOrAfter !== undefined && notBefore >= conditionsNotOnOrAfter) {
    fail('assertion Conditions window is empty');
  }
  let restrictions = 0;
  let audienceOk = true;
  for (const condition of childElements(conditions)) {
    if (is(condition, NS.saml, 'AudienceRestriction')) {
      restrictions++;
      const audiences = childElements(condition).map((a) => {
        if (!is(a, NS.saml, 'Audience')) fail('AudienceRestriction has unexpected content');
        return simpleText(a, 'Audience').trim();
      });
      if (audiences.length === 0) fail('AudienceRestriction has no Audience');
      // Every AudienceRestriction must be satisfied (SAML core 2.5.1.4).
      if (!audiences.includes(idp.audience)) audienceOk = false;
    } else if (!is(condition, NS.saml, 'OneTimeUse') && !is(condition, NS.saml, 'ProxyRestriction')) {
      // An unknown condition makes the assertion Indeterminate (SAML core 2.5.1): refuse.
      fail('assertion has an unsupported condition');
    }
  }
  if (restrictions === 0) fail('assertion has no AudienceRestriction');
  if (!audienceOk) fail('assertion audience does not match');

  // Subject: the NameID and a usable bearer confirmation.
  const subjects = children.filter((el) => el.localName === 'Subject');
  if (subjects.length !== 1) fail(subjects.length === 0 ? 'assertion has no Subject' : 'assertion must have exactly one Subject');
  const subjectParts = childElements(subjects[0]!);
  const nameIds = subjectParts.filter((el) => is(el, NS.saml, 'NameID'));
  if (nameIds.length === 0) fail('assertion has no NameID');
  if (nameIds.length > 1 || subjectParts[0] !== nameIds[0]) fail('assertion Subject must start with exactly one NameID');
  const nameIdEl = nameIds[0]!;
  const nameIdNodes = Array.from(nameIdEl.childNodes);
  if (nameIdNodes.length !== 1 || nameIdNodes[0]!.nodeType !== TEXT_NODE) {
    fail(nameIdNodes.length === 0 ? 'NameID is empty' : 'NameID must be a single text node');
  }
  const nameId = (nameIdNodes[0]!.nodeValue ?? '').trim();
  if (nameId === '') fail('NameID is empty');
  const nameIdFormat = attr(nameIdEl, 'Format');

  let bearerSeen = false;
  let reason: string | undefined;
  let reasonForRecipient: string | undefined;
  let confirmedUntil: number | undefined;
  for (const part of subjectParts.slice(1)) {
    if (!is(part, NS.saml, 'SubjectConfirmation')) fail('unexpected element in the Subject');
    if (attr(part, 'Method') !== BEARER) continue;
    bearerSeen = true;
    const dataList = childElements(part).filter((el) => is(el, NS.saml, 'SubjectConfirmationData'));
    if (dataList.length !== 1) {
      reason ??= 'bearer SubjectConfirmation must have one SubjectConfirmationData';
      continue;
    }
    const data = dataList[0]!;
    const until = optionalDate(data, 'NotOnOrAfter', 'SubjectConfirmationData NotOnOrAfter');
    const from = optionalDate(data, 'NotBefore', 'SubjectConfirmationData NotBefore');
    let problem: string | undefined;
    if ((attr(data, 'Recipient') ?? '').trim() !== idp.audience) problem = 'bearer SubjectConfirmationData Recipient does not match';
    else if (until === undefined) problem = 'bearer SubjectConfirmationData has no NotOnOrAfter';
    else if (nowMs >= until + skewMs) problem = 'bearer SubjectConfirmation has expired';
    else if (from !== undefined && nowMs + skewMs < from) problem = 'bearer SubjectConfirmation is not yet valid';
    if (problem === undefined) {
      confirmedUntil ??= until;
    } else if (problem.includes('Recipient')) {
      reasonForRecipient ??= problem;
    } else {
      reason ??= problem;
    }
  }
  if (!bearerSeen) fail('assertion has no bearer SubjectConfirmation');
  if (confirmedUntil === undefined) fail(reason ?? reasonForRecipient ?? 'assertion has no valid bearer SubjectConfirmation');

  const sessionIndex = children
    .filter((el) => is(el, NS.saml, 'AuthnStatement'))
    .map((el) => attr(el, 'SessionIndex'))
    .find((s) => s !== undefined);

  const claims: SamlBearerClaims = {
    issuer,
    assertionId,
    nameId,
    audience: idp.audience,
    notOnOrAfter: seconds(Math.min(confirmedUntil, conditionsNotOnOrAfter ?? Infinity), 'floor'),
    issueInstant: seconds(issueInstant, 'floor'),
  };
  if (nameIdFormat !== undefined) claims.nameIdFormat = nameIdFormat;
  if (notBefore !== undefined) claims.notBefore = seconds(notBefore, 'ceil');
  if (sessionIndex !== undefined) claims.sessionIndex = sessionIndex;
  return claims;
}

function checkOptions(opts: SamlVerifyOptions): { nowMs: number; skewMs: number; maxBytes: number; maxDepth: number } {
  const nowSeconds = opts.nowSeconds ?? Date.now() / 1000;
  const { skewSeconds } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isFinite(nowSeconds) || !Number.isFinite(skewSeconds) || skewSeconds < 0) {
    throw new TypeError('SamlVerifyOptions: nowSeconds and skewSeconds must be finite, skewSeconds >= 0');
  }
  if (!Number.isInteger(maxBytes) || maxBytes <= 0 || !Number.isInteger(maxDepth) || maxDepth <= 0) {
    throw new TypeError('SamlVerifyOptions: maxBytes and maxDepth must be positive integers');
  }
  return { nowMs: nowSeconds * 1000, skewMs: skewSeconds * 1000, maxBytes, maxDepth };
}

/**
 * Like verifySamlBearerAssertion but also returns the signed canonical XML (used by tests to
 * prove that whatever is accepted is exactly what was signed).
 */
export async function verifySamlBearerAssertionDetailed(assertionParam: string, opts: SamlVerifyOptions): Promise<SamlVerification> {
  const { nowMs, skewMs, maxBytes, maxDepth } = checkOptions(opts);

  // Phase 1: everything up to the issuer lookup, on the received (untrusted) document.
  const before = guard(() => {
    const xml = decodeAssertionParam(assertionParam, maxBytes);
    const doc = parseStrictXml(xml, maxDepth);
    const envelope = checkEnvelope(doc.documentElement!);
    if (!envelope.signature) fail('assertion is not signed');
    const rootChildren = childElements(envelope.root);
    const issuer = readIssuer(rootChildren[0]);
    if (rootChildren[1] !== envelope.signature) fail('Signature must immediately follow the Issuer');
    const layout = checkSignatureLayout(envelope.signature, envelope.assertionId);
    return { xml, envelope, issuer, layout };
  });

  // The caller's lookup: its own exceptions (e.g. a database outage) propagate unchanged.
  const idp = await opts.findIdp(before.issuer);

  return guard(() => {
    if (!idp || idp.issuer !== before.issuer) fail('unknown issuer');
    if (typeof idp.audience !== 'string' || idp.audience === '' || !Array.isArray(idp.certificates)) {
      fail('identity provider is not configured correctly');
    }
    const { xml, envelope, issuer, layout } = before;

    // Phase 2: the signature, with keys from the registry only.
    const signedXml = verifyWithCertificates(xml, layout, idp.certificates);
    if (canonicalizeParsedAssertion(envelope.root, layout) !== signedXml) {
      fail('signed content does not match the parsed document');
    }

    // Phase 3: claims, read only from the signed bytes.
    const signedDoc = parseStrictXml(signedXml, maxDepth);
    const signedEnvelope = checkEnvelope(signedDoc.documentElement!);
    if (signedEnvelope.signature || signedEnvelope.assertionId !== envelope.assertionId) {
      fail('signed content is not the referenced Assertion');
    }
    const claims = extractClaims(signedEnvelope.root, signedEnvelope.assertionId, issuer, idp, nowMs, skewMs);
    return { claims, signedXml };
  });
}

/** Any unexpected exception inside the verifier becomes a generic SamlValidationError. */
function guard<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof SamlValidationError) throw error;
    throw new SamlValidationError('assertion could not be validated');
  }
}

export async function verifySamlBearerAssertion(assertionParam: string, opts: SamlVerifyOptions): Promise<SamlBearerClaims> {
  return (await verifySamlBearerAssertionDetailed(assertionParam, opts)).claims;
}
