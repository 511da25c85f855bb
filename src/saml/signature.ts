import { X509Certificate, type KeyObject } from 'node:crypto';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import type { Element } from '@xmldom/xmldom';
import {
  DIGEST_ALGORITHMS,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  SIGNATURE_ALGORITHMS,
  xmlCryptoHashAlgorithms,
  xmlCryptoSignatureAlgorithms,
} from './algorithms.js';
import { fail } from './errors.js';
import { NS, attr, childElements, is, simpleText } from './xml.js';

export interface SignatureLayout {
  signature: Element;
  signatureAlgorithm: string;
  digestAlgorithm: string;
  /** InclusiveNamespaces/@PrefixList of the exc-c14n reference transform (usually empty). */
  referencePrefixList: string[];
}

const NCNAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const BASE64_TEXT = /^[A-Za-z0-9+/ \t\r\n]+={0,2}[ \t\r\n]*$/;

function onlyDs(elements: Element[], names: string[], what: string): void {
  if (elements.length !== names.length || elements.some((el, i) => !is(el, NS.ds, names[i]!))) {
    fail(`${what} does not have the expected structure`);
  }
}

/** Optional exc-c14n InclusiveNamespaces child of a CanonicalizationMethod or Transform. */
function prefixList(el: Element, what: string): string[] {
  const kids = childElements(el);
  if (kids.length === 0) return [];
  const only = kids[0]!;
  if (kids.length !== 1 || !is(only, NS.excC14n, 'InclusiveNamespaces') || childElements(only).length !== 0) {
    fail(`${what} has unexpected content`);
  }
  const list = (attr(only, 'PrefixList') ?? '').split(/[ \t\r\n]+/).filter((p) => p.length > 0);
  if (list.some((p) => !NCNAME.test(p))) fail(`${what} has an unsupported InclusiveNamespaces PrefixList`);
  return list;
}

function describeAlgorithm(kind: 'signature' | 'digest', uri: string | undefined): string {
  const u = (uri ?? '').toLowerCase();
  if (kind === 'signature' && u.includes('hmac')) return 'HMAC signatures are not accepted';
  if (u.endsWith('sha1')) return `SHA-1 ${kind === 'signature' ? 'signatures' : 'digests'} are not accepted`;
  return `${kind} algorithm is not accepted`;
}

/**
 * Checks the one ds:Signature is exactly the shape we support:
 *   Signature = SignedInfo, SignatureValue, KeyInfo? (KeyInfo is ignored, never a key source)
 *   SignedInfo = CanonicalizationMethod(exc-c14n), SignatureMethod(RSA/ECDSA SHA-2), one Reference
 *   Reference@URI = "#" + Assertion/@ID; Transforms = enveloped-signature, exc-c14n; SHA-2 digest.
 */
export function checkSignatureLayout(signature: Element, assertionId: string): SignatureLayout {
  const parts = childElements(signature);
  if (parts.length === 3) onlyDs(parts, ['SignedInfo', 'SignatureValue', 'KeyInfo'], 'Signature');
  else onlyDs(parts, ['SignedInfo', 'SignatureValue'], 'Signature');
  const [signedInfo, signatureValue] = parts as [Element, Element];

  const infoParts = childElements(signedInfo);
  const references = infoParts.filter((el) => is(el, NS.ds, 'Reference'));
  if (references.length !== 1) fail('SignedInfo must contain exactly one Reference');
  onlyDs(infoParts, ['CanonicalizationMethod', 'SignatureMethod', 'Reference'], 'SignedInfo');
  const [c14nMethod, signatureMethod, reference] = infoParts as [Element, Element, Element];

  if (attr(c14nMethod, 'Algorithm') !== EXC_C14N) fail('CanonicalizationMethod must be exclusive c14n without comments');
  prefixList(c14nMethod, 'CanonicalizationMethod');

  const signatureAlgorithm = attr(signatureMethod, 'Algorithm');
  if (signatureAlgorithm === undefined || !Object.hasOwn(SIGNATURE_ALGORITHMS, signatureAlgorithm)) {
    fail(describeAlgorithm('signature', signatureAlgorithm));
  }
  if (childElements(signatureMethod).length !== 0) fail('SignatureMethod has unexpected content');

  if (attr(reference, 'URI') !== `#${assertionId}`) fail('signature Reference does not point to the Assertion');
  const refParts = childElements(reference);
  onlyDs(refParts, ['Transforms', 'DigestMethod', 'DigestValue'], 'Reference');
  const [transforms, digestMethod, digestValue] = refParts as [Element, Element, Element];

  const transformList = childElements(transforms);
  if (
    transformList.length !== 2 ||
    !transformList.every((t) => is(t, NS.ds, 'Transform')) ||
    attr(transformList[0]!, 'Algorithm') !== ENVELOPED_SIGNATURE ||
    attr(transformList[1]!, 'Algorithm') !== EXC_C14N
  ) {
    fail('Reference transforms must be exactly enveloped-signature then exclusive c14n');
  }
  if (childElements(transformList[0]!).length !== 0) fail('enveloped-signature transform has unexpected content');
  const referencePrefixList = prefixList(transformList[1]!, 'exclusive c14n transform');

  const digestAlgorithm = attr(digestMethod, 'Algorithm');
  if (digestAlgorithm === undefined || !Object.hasOwn(DIGEST_ALGORITHMS, digestAlgorithm)) {
    fail(describeAlgorithm('digest', digestAlgorithm));
  }
  if (childElements(digestMethod).length !== 0) fail('DigestMethod has unexpected content');
  if (!BASE64_TEXT.test(simpleText(digestValue, 'DigestValue'))) fail('DigestValue is not base64');
  if (!BASE64_TEXT.test(simpleText(signatureValue, 'SignatureValue'))) fail('SignatureValue is not base64');

  return { signature, signatureAlgorithm, digestAlgorithm, referencePrefixList };
}

// Registered certificates change rarely; parsing one costs about as much as the RSA verification.
const keyCache = new Map<string, KeyObject | null>();
const KEY_CACHE_LIMIT = 256;

function publicKey(pem: string): KeyObject | null {
  let key = keyCache.get(pem);
  if (key === undefined) {
    try {
      key = new X509Certificate(pem).publicKey;
    } catch {
      // An unparsable registered certificate is a configuration problem; the others may still verify.
      key = null;
    }
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(pem, key);
  }
  return key;
}

function publicKeys(certificates: readonly string[]): KeyObject[] {
  return certificates.flatMap((pem) => {
    const key = typeof pem === 'string' ? publicKey(pem) : null;
    return key ? [key] : [];
  });
}

/**
 * Verifies the signature with each registered certificate in turn (key rollover) using
 * xml-crypto, with its algorithm tables replaced by our allow-list and KeyInfo disabled as a key
 * source. Returns the canonical XML of the one signed reference: the only bytes claims may be
 * read from.
 */
export function verifyWithCertificates(xml: string, layout: SignatureLayout, certificates: readonly string[]): string {
  const keys = publicKeys(certificates);
  if (keys.length === 0) fail('no usable certificate is registered for the issuer');
  for (const key of keys) {
    const signed = new SignedXml({ publicCert: key, getCertFromKeyInfo: () => null });
    const transforms = signed.CanonicalizationAlgorithms;
    signed.CanonicalizationAlgorithms = { [EXC_C14N]: transforms[EXC_C14N]!, [ENVELOPED_SIGNATURE]: transforms[ENVELOPED_SIGNATURE]! };
    signed.SignatureAlgorithms = xmlCryptoSignatureAlgorithms();
    signed.HashAlgorithms = xmlCryptoHashAlgorithms();
    let valid = false;
    try {
      signed.loadSignature(layout.signature as unknown as globalThis.Node);
      valid = signed.checkSignature(xml);
    } catch {
      valid = false;
    }
    if (signed.getReferences().some((ref) => ref.validationError != null)) {
      // The digest does not depend on the key: the signed content was altered.
      fail('assertion content does not match its signature digest');
    }
    if (valid) {
      const references = signed.getSignedReferences();
      if (references.length !== 1 || typeof references[0] !== 'string') fail('signature must cover exactly the Assertion');
      return references[0];
    }
  }
  return fail('signature is not valid for any certificate registered for the issuer');
}

/**
 * Our own exclusive canonicalization of the Assertion as we parsed it (minus the Signature), so we
 * can require it to be byte-identical to what xml-crypto verified from its own parse of the text.
 * xml-crypto re-parses with its private xmldom 0.8 copy; this closes any parser differential.
 */
export function canonicalizeParsedAssertion(root: Element, layout: SignatureLayout): string {
  const index = Array.from(root.childNodes).indexOf(layout.signature);
  const clone = root.cloneNode(true) as Element;
  const clonedSignature = clone.childNodes[index];
  if (index < 0 || !clonedSignature) fail('Signature is not a direct child of the Assertion');
  clone.removeChild(clonedSignature);
  return new ExclusiveCanonicalization().process(clone as unknown as globalThis.Element, {
    inclusiveNamespacesPrefixList: layout.referencePrefixList,
    ancestorNamespaces: [],
    defaultNs: '',
    defaultNsForPrefix: { ds: NS.ds },
  });
}
