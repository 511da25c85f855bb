import type { Element } from '@xmldom/xmldom';
import { decodeAssertionParam } from './base64.js';
import { SamlValidationError, fail } from './errors.js';
import { canonicalizeParsedAssertion, checkSignatureLayout, verifyWithCertificates } from './signature.js';
import { extractClaims, readIssuer } from './claims.js';
import {
  DEFAULT_MAX_ATTRIBUTES,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_ELEMENTS,
  type SamlBearerClaims,
  type SamlIdentityProvider,
  type SamlVerifyOptions,
} from './types.js';
import { NS, attr, childElements, descendants, is, parseStrictXml, type TreeLimits } from './xml.js';

const NCNAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
/** Names of XML-DSig signature-structure elements that may exist only inside the one Signature. */
const DSIG_STRUCTURE = new Set([
  'Signature', 'SignedInfo', 'SignatureValue', 'CanonicalizationMethod', 'SignatureMethod',
  'Reference', 'Transforms', 'Transform', 'DigestMethod', 'DigestValue', 'Object', 'Manifest',
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

interface Checked extends TreeLimits {
  nowMs: number;
  skewMs: number;
  maxBytes: number;
}

function checkOptions(opts: SamlVerifyOptions): Checked {
  const nowSeconds = opts.nowSeconds ?? Date.now() / 1000;
  const { skewSeconds } = opts;
  const caps = {
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
    maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxElements: opts.maxElements ?? DEFAULT_MAX_ELEMENTS,
    maxAttributes: opts.maxAttributes ?? DEFAULT_MAX_ATTRIBUTES,
  };
  if (!Number.isFinite(nowSeconds) || !Number.isFinite(skewSeconds) || skewSeconds < 0) {
    throw new TypeError('SamlVerifyOptions: nowSeconds and skewSeconds must be finite, skewSeconds >= 0');
  }
  if (Object.values(caps).some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new TypeError('SamlVerifyOptions: maxBytes, maxDepth, maxElements and maxAttributes must be positive integers');
  }
  return { nowMs: nowSeconds * 1000, skewMs: skewSeconds * 1000, ...caps };
}

function validIdp(idp: SamlIdentityProvider): boolean {
  const uris = (list: unknown) => Array.isArray(list) && list.every((u) => typeof u === 'string' && u !== '');
  return uris(idp.audiences) && idp.audiences.length > 0 && uris(idp.recipients) && Array.isArray(idp.certificates);
}

/** The pipeline after decoding: `xml` is the decoded text, at most `maxBytes` long. */
async function verifyXml(xml: string, opts: SamlVerifyOptions, checked: Checked): Promise<SamlVerification> {
  const { nowMs, skewMs } = checked;

  // Phase 1: everything up to the issuer lookup, on the received (untrusted) document.
  const before = guard(() => {
    const doc = parseStrictXml(xml, checked);
    const envelope = checkEnvelope(doc.documentElement!);
    if (!envelope.signature) fail('assertion is not signed');
    const rootChildren = childElements(envelope.root);
    const issuer = readIssuer(rootChildren[0]);
    if (rootChildren[1] !== envelope.signature) fail('Signature must immediately follow the Issuer');
    const layout = checkSignatureLayout(envelope.signature, envelope.assertionId);
    return { envelope, issuer, layout };
  });

  // The caller's lookup: its own exceptions (e.g. a database outage) propagate unchanged.
  const idp = await opts.findIdp(before.issuer);

  return guard(() => {
    if (!idp || idp.issuer !== before.issuer) fail('unknown issuer');
    if (!validIdp(idp)) fail('identity provider is not configured correctly');
    const { envelope, issuer, layout } = before;

    // Phase 2: the signature, with keys from the registry only.
    const signedXml = verifyWithCertificates(xml, layout, idp.certificates);
    if (canonicalizeParsedAssertion(envelope.root, layout) !== signedXml) {
      fail('signed content does not match the parsed document');
    }

    // Phase 3: claims, read only from the signed bytes.
    const signedDoc = parseStrictXml(signedXml, checked);
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

/**
 * Like verifySamlBearerAssertion but also returns the signed canonical XML (used by tests to
 * prove that whatever is accepted is exactly what was signed).
 */
export async function verifySamlBearerAssertionDetailed(assertionParam: string, opts: SamlVerifyOptions): Promise<SamlVerification> {
  const checked = checkOptions(opts);
  const xml = guard(() => decodeAssertionParam(assertionParam, checked.maxBytes));
  return verifyXml(xml, opts, checked);
}

export async function verifySamlBearerAssertion(assertionParam: string, opts: SamlVerifyOptions): Promise<SamlBearerClaims> {
  return (await verifySamlBearerAssertionDetailed(assertionParam, opts)).claims;
}

/**
 * The verifier after decoding, for a caller that decoded the parameter itself with
 * `decodeAssertionParam` (the worker pool decodes on the main thread, where the size cap costs
 * nothing, and verifies here in a worker).
 */
export async function verifyDecodedAssertion(xml: string, opts: SamlVerifyOptions): Promise<SamlBearerClaims> {
  const checked = checkOptions(opts);
  if (Buffer.byteLength(xml, 'utf8') > checked.maxBytes) throw new SamlValidationError('assertion is too large');
  return (await verifyXml(xml, opts, checked)).claims;
}
