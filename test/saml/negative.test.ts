// Negative corpus: every document here must be refused with a SamlValidationError (with the
// specific description where one is meaningful). Signed documents are produced by the in-process
// test signer, whose output xmlsec1 accepts (see xmlsec.test.ts), so each refusal below is due to
// the verifier's checks and not to a broken baseline (see "baseline" tests).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { SamlValidationError, verifySamlBearerAssertion } from '../../src/saml/index.js';
import { expectRefused, makeContext, type SamlTestContext } from './context.js';
import { ALG, AUDIENCE, DEFAULT_ID, ISSUER, NOW, SKEW, assertionXml, b64url, iso, signatureTemplate, type AssertionOptions } from './fixtures.js';
import type { TestKey } from './keys.js';
import { signXml } from './sign.js';

let ctx: SamlTestContext;
let attacker: TestKey;
let weak: TestKey;

beforeAll(() => {
  ctx = makeContext();
  attacker = ctx.store.make('attacker', 'rsa');
  weak = ctx.store.make('weak', 'rsa', 1024);
});
afterAll(() => ctx?.store.cleanup());

const signed = (o: AssertionOptions = {}, key?: TestKey): string => signXml(assertionXml(o), key ?? ctx.idpKey);
/** Signs the default assertion after applying `edit` to the template (the IdP really signed this). */
const signedEdited = (edit: (xml: string) => string): string => signXml(edit(assertionXml()), ctx.idpKey);
const body = (xml: string): string => xml.replace(/^<\?xml[^>]*\?>\s*/, '');
const signatureOf = (xml: string): string => /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0];
const refuse = (xml: string, description?: RegExp, overrides = {}) => expectRefused({ xml }, ctx.opts(overrides), description);
const accept = (xml: string, overrides = {}) => verifySamlBearerAssertion(b64url(xml), ctx.opts(overrides));

/** What xml-crypto alone says about the document (to show which attacks it would let through). */
function xmlCryptoAlone(xml: string): boolean {
  const sx = new SignedXml({ publicCert: ctx.idpKey.certPem });
  try {
    const doc = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml');
    sx.loadSignature(sx.findSignatures(doc as unknown as globalThis.Node)[0]!);
    return sx.checkSignature(xml);
  } catch {
    return false;
  }
}

describe('baseline', () => {
  test('the untouched signed assertion is accepted', async () => {
    const claims = await accept(signed());
    expect(claims).toMatchObject({ issuer: ISSUER, assertionId: DEFAULT_ID, nameId: 'alice@example.org', audience: AUDIENCE });
  });
  test('KeyInfo is ignored: a bogus certificate in KeyInfo does not matter when the registered key signed', async () => {
    const keyInfo = `<ds:X509Data><ds:X509Certificate>${attacker.certPem.replace(/-----[^-]+-----|\s/g, '')}</ds:X509Certificate></ds:X509Data>`;
    expect((await accept(signed({ signatureOptions: { keyInfo } }))).nameId).toBe('alice@example.org');
  });
  test('async findIdp is supported', async () => {
    const claims = await verifySamlBearerAssertion(b64url(signed()), { ...ctx.opts(), findIdp: async () => ctx.idp });
    expect(claims.nameId).toBe('alice@example.org');
  });
});

describe('signature integrity and keys', () => {
  test('tampered NameID', () => refuse(signed().replace('alice@example.org', 'admin@example.org'), /does not match its signature digest/));
  test('tampered Conditions NotOnOrAfter (extended)', () => refuse(signed().replace(iso(NOW + 600), iso(NOW + 86400)), /does not match its signature digest/));
  test('tampered SignatureValue', () => refuse(signed().replace(/<ds:SignatureValue>(.)/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`), /not valid for any certificate/));
  test('unsigned assertion', () => refuse(assertionXml({ signature: '' }), /not signed/));
  test('signature template never filled in', () => refuse(assertionXml(), /not base64/));
  test('signed by an unregistered key whose certificate is placed in KeyInfo', () => {
    const keyInfo = `<ds:X509Data><ds:X509Certificate>${attacker.certPem.replace(/-----[^-]+-----|\s/g, '')}</ds:X509Certificate></ds:X509Data>`;
    return refuse(signed({ signatureOptions: { keyInfo } }, attacker), /not valid for any certificate/);
  });
  test('signed by an unregistered key with a KeyValue in KeyInfo', () =>
    refuse(signed({ signatureOptions: { keyInfo: '<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus><ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>' } }, attacker), /not valid for any certificate/));
  test('the issuer has no usable certificate registered', () => refuse(signed(), /no usable certificate/, { certificates: ['garbage'] }));
  test('RSA keys below 2048 bits are not trusted even when registered', () => refuse(signed({}, weak), /not valid for any certificate/, { certificates: [weak.certPem] }));
  test('SHA-1 signature (rsa-sha1)', () => refuse(signed({ signatureOptions: { signatureAlgorithm: ALG.rsaSha1 } }), /SHA-1 signatures/));
  test('SHA-1 digest', () => refuse(signed({ signatureOptions: { digestAlgorithm: ALG.sha1 } }), /SHA-1 digests/));
  test('HMAC-SHA1 signature keyed with the public certificate (key confusion)', () =>
    refuse(signXml(assertionXml({ signatureOptions: { signatureAlgorithm: ALG.hmacSha1 } }), ctx.idpKey, { hmacSecret: ctx.idpKey.certPem }), /HMAC/));
  test('HMAC-SHA256 signature', () => refuse(signXml(assertionXml({ signatureOptions: { signatureAlgorithm: ALG.hmacSha256 } }), ctx.idpKey, { hmacSecret: 's' }), /HMAC/));
  test('canonicalization with comments', () => refuse(signed({ signatureOptions: { c14nAlgorithm: ALG.excC14nWithComments } }), /exclusive c14n/));
  test('inclusive canonicalization', () => refuse(signed({ signatureOptions: { c14nAlgorithm: ALG.c14n } }), /exclusive c14n/));
  test.each([
    ['only enveloped-signature', [ALG.enveloped]],
    ['inclusive c14n transform', [ALG.enveloped, ALG.c14n]],
    ['exc-c14n with comments transform', [ALG.enveloped, ALG.excC14nWithComments]],
    ['wrong order', [ALG.excC14n, ALG.enveloped]],
    ['XPath transform', [ALG.enveloped, 'http://www.w3.org/TR/1999/REC-xpath-19991116', ALG.excC14n]],
    ['XSLT transform', [ALG.enveloped, 'http://www.w3.org/TR/1999/REC-xslt-19991116']],
  ])('transforms: %s', (_name, transforms) => refuse(signed({ signatureOptions: { transforms } }), /transforms/));
  test('Signature carrying a ds:Object', () =>
    refuse(signed().replace('</ds:SignatureValue>', '</ds:SignatureValue><ds:Object>x</ds:Object>'), /Signature does not have the expected structure/));
  test('Signature not right after the Issuer', () => {
    const xml = signed();
    const sig = signatureOf(xml);
    return refuse(xml.replace(sig, '').replace('</saml:Assertion>', `${sig}</saml:Assertion>`), /immediately follow the Issuer/);
  });
  test('a second Signature (inside Advice)', () => {
    const xml = signed();
    return refuse(xml.replace('<saml:AuthnStatement', `<saml:Advice>${signatureOf(xml)}</saml:Advice><saml:AuthnStatement`), /exactly one Signature/);
  });
  test('two SignedInfo elements', () =>
    refuse(signed().replace('</ds:SignedInfo>', '</ds:SignedInfo><ds:SignedInfo/>'), /exactly one Signature|expected structure/));
  test('two References', () => {
    const xml = signed();
    const ref = /<ds:Reference[\s\S]*<\/ds:Reference>/.exec(xml)![0];
    return refuse(xml.replace(ref, ref + ref), /exactly one Reference/);
  });
  test('Reference URI empty (whole document)', () => refuse(signed({ signatureOptions: { referenceUri: '' } }), /Reference does not point to the Assertion/));
});

describe('signature wrapping (XSW, "On Breaking SAML")', () => {
  const evil = { id: '_evil', nameId: 'admin@example.org' };

  test('XSW: signed assertion moved inside an evil one (in Advice), signature on the evil root', () => {
    const orig = signed({ id: '_orig' });
    const xml = assertionXml({ ...evil, signature: signatureOf(orig), extraXml: `<saml:Advice>${body(orig).replace(signatureOf(orig), '')}</saml:Advice>` });
    expect(xmlCryptoAlone(xml)).toBe(true); // cryptographically "valid": the attack is real
    return refuse(xml, /exactly one Assertion/);
  });
  test('XSW: signed assertion (signature stripped) hidden in the evil root signature ds:Object', () => {
    const orig = signed({ id: '_orig' });
    const sig = signatureOf(orig);
    const inner = body(orig).replace(sig, '');
    return refuse(assertionXml({ ...evil, signature: sig.replace('</ds:Signature>', `<ds:Object>${inner}</ds:Object></ds:Signature>`) }), /exactly one Assertion/);
  });
  test('XSW: evil assertion beside the signed one under a wrapper root', () => {
    const orig = signed({ id: '_orig' });
    return refuse(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${body(assertionXml({ ...evil, signature: '' }))}${body(orig)}</samlp:Response>`, /root is not a SAML 2.0 Assertion/);
  });
  test('XSW: signed assertion moved into an Extensions element of the evil one', () => {
    const orig = signed({ id: '_orig' });
    const subjectXml =
      `<saml:Subject><saml:NameID>admin@example.org</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
      `<saml:SubjectConfirmationData Recipient="${AUDIENCE}" NotOnOrAfter="${iso(NOW + 300)}"><samlp:Extensions xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${body(orig).replace(signatureOf(orig), '')}</samlp:Extensions></saml:SubjectConfirmationData>` +
      `</saml:SubjectConfirmation></saml:Subject>`;
    const xml = assertionXml({ ...evil, subjectXml, signature: signatureOf(orig) });
    expect(xmlCryptoAlone(xml)).toBe(true);
    return refuse(xml, /exactly one Assertion/);
  });
  test('XSW: evil root reuses the signed ID, original kept inside (duplicate ID)', () => {
    const orig = signed({ id: '_orig' });
    return refuse(assertionXml({ ...evil, id: '_orig', signature: signatureOf(orig), extraXml: `<saml:Advice>${body(orig).replace(signatureOf(orig), '')}</saml:Advice>` }), /exactly one Assertion|duplicate ID/);
  });
  test.each([
    ['unprefixed ID', 'ID'],
    ['lowercase id', 'id'],
    ['Id', 'Id'],
    ['namespaced x:ID', 'x:ID'],
    ['differently cased iD', 'iD'],
  ])('evil ID duplicated on another element: %s', (_name, attrName) =>
    refuse(signed().replace('<saml:AuthnStatement', `<saml:Advice><x:E xmlns:x="urn:evil" ${attrName}="${DEFAULT_ID}"/></saml:Advice><saml:AuthnStatement`), /duplicate ID/));
  test('Reference pointing to a different (legitimately signed) element than the root', async () => {
    const attrs = '<saml:AttributeStatement ID="_attrs"><saml:Attribute Name="role"><saml:AttributeValue>user</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>';
    const xml = signed({ ...evil, extraXml: attrs, signatureOptions: { referenceUri: '#_attrs' } });
    expect(xmlCryptoAlone(xml)).toBe(true);
    await refuse(xml, /Reference does not point to the Assertion/);
  });
  test('two assertions: wrapper root with two signed assertions', () =>
    refuse(`<w>${body(signed({ id: '_one' }))}${body(signed({ id: '_two' }))}</w>`, /root is not a SAML 2.0 Assertion/));
  test('two assertions: two top-level elements', () => refuse(`${signed({ id: '_one' })}${body(signed({ id: '_two' }))}`, /well-formed/));
});

describe('comment and processing-instruction truncation', () => {
  const nameId = 'user@evil.com.example.com';
  test('comment inside NameID (user@evil.com<!---->.example.com)', async () => {
    const xml = signed({ nameId }).replace(nameId, 'user@evil.com<!---->.example.com');
    expect(xmlCryptoAlone(xml)).toBe(true); // the digest ignores comments: only our check stops this
    await refuse(xml, /comments are not allowed/);
  });
  test('processing instruction inside NameID (xml-crypto renders PI data as text)', async () => {
    const xml = signed({ nameId }).replace(nameId, 'user@evil.com<?x .example.com?>');
    expect(xmlCryptoAlone(xml)).toBe(true); // canonicalizes to the signed text although the DOM's first text is "user@evil.com"
    await refuse(xml, /processing instructions are not allowed/);
  });
  test('comment before the root and after the root', async () => {
    await refuse(signed().replace('<saml:Assertion', '<!-- hi --><saml:Assertion'), /comments are not allowed/);
    await refuse(signed() + '<!-- bye -->', /comments are not allowed/);
  });
  test('processing instruction outside the root', () => refuse(signed().replace('<saml:Assertion', '<?xml-stylesheet href="x"?><saml:Assertion'), /processing instructions/));
  test('CDATA splitting the NameID is fine: it is the same text', async () => {
    const xml = signed({ nameId }).replace(nameId, 'user@evil.com<![CDATA[.example]]>.com');
    expect((await accept(xml)).nameId).toBe(nameId);
  });
});

describe('DTDs and entities', () => {
  const withDoctype = (doctype: string, nameId: string) => signed().replace('<saml:Assertion', `${doctype}<saml:Assertion`).replace('alice@example.org', nameId);
  test('internal entity', () => refuse(withDoctype('<!DOCTYPE saml:Assertion [<!ENTITY n "admin@example.org">]>', '&n;'), /DOCTYPE/));
  test('external SYSTEM entity (XXE)', () => refuse(withDoctype('<!DOCTYPE saml:Assertion [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', '&xxe;'), /DOCTYPE/));
  test('external DTD subset', () => refuse(withDoctype('<!DOCTYPE saml:Assertion SYSTEM "http://127.0.0.1:9/evil.dtd">', 'alice@example.org'), /DOCTYPE/));
  test('parameter entities', () => refuse(withDoctype('<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">%p;]>', 'alice@example.org'), /DOCTYPE/));
  test('lower-case doctype', () => refuse(withDoctype('<!doctype saml:Assertion>', 'alice@example.org'), /DOCTYPE/));
  test('billion laughs, refused fast', async () => {
    const lol = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`)].join('');
    const started = performance.now();
    await refuse(withDoctype(`<!DOCTYPE lolz [${lol}]>`, '&lol9;'), /DOCTYPE/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
  test('undefined entity without a DTD', () => refuse(signed().replace('alice@example.org', '&nbsp;alice'), /well-formed/));
  test('bare ampersand (xmldom would keep it as text)', () => refuse(signed().replace('alice@example.org', 'alice&bob'), /unescaped/));
  test('character reference to a forbidden character', () => refuse(signed().replace('alice@example.org', 'alice&#0;'), /characters not allowed/));
});

describe('size, depth and encoding', () => {
  test('oversized (> 16 KiB decoded, the default cap)', () => refuse(signed({ extraXml: `<saml:Advice><x:p xmlns:x="urn:x">${'A'.repeat(70_000)}</x:p></saml:Advice>` }), /too large/));
  test('maxBytes option', () => refuse(signed(), /too large/, { maxBytes: 1000 }));
  test('too many elements (default cap 512)', () => refuse(signed({ extraXml: `<saml:Advice><x:l xmlns:x="urn:x">${'<x:e/>'.repeat(600)}</x:l></saml:Advice>` }), /^assertion has too many elements$/));
  test('too many attributes (default cap 1024)', () =>
    refuse(signed({ extraXml: `<saml:Advice><x:l xmlns:x="urn:x" ${Array.from({ length: 1100 }, (_, i) => `a${i}=""`).join(' ')}/></saml:Advice>` }), /^assertion has too many attributes$/));
  test('maxElements and maxAttributes options', async () => {
    await refuse(signed(), /too many elements/, { maxElements: 10 });
    await refuse(signed(), /too many attributes/, { maxAttributes: 5 });
  });
  test('an assertion with 100 attributes (about 310 elements, 12 KB) is within the default caps', async () => {
    const values = Array.from({ length: 100 }, (_, i) => `<saml:Attribute Name="urn:oid:1.3.6.1.4.1.${i}"><saml:AttributeValue>value-${i}</saml:AttributeValue></saml:Attribute>`).join('');
    const xml = signed({ extraXml: `<saml:AttributeStatement>${values}</saml:AttributeStatement>` });
    expect(Buffer.byteLength(xml)).toBeLessThan(16384);
    expect((await accept(xml)).nameId).toBe('alice@example.org');
  });
  test('deeply nested (40 levels)', () => refuse(signed({ extraXml: `<saml:Advice>${'<x:a xmlns:x="urn:x">'.repeat(40)}${'</x:a>'.repeat(40)}</saml:Advice>` }), /nested too deeply/));
  test('deeply nested (8000 levels) is refused quickly', async () => {
    const started = performance.now();
    // Not signed: the test signer recurses; the depth cap applies before any signature work anyway.
    // (56 KB: above the default size cap, which is raised here so that the depth cap is what refuses it)
    await refuse(assertionXml({ extraXml: `<saml:Advice>${'<a>'.repeat(8000)}${'</a>'.repeat(8000)}</saml:Advice>` }), /nested too deeply/, { maxBytes: 1 << 20 });
    expect(performance.now() - started).toBeLessThan(2000);
  });
  test('maxDepth option', () => refuse(signed(), /nested too deeply/, { maxDepth: 4 }));
  test('Latin-1 bytes', () => expectRefused({ param: Buffer.from(signed({ nameId: 'josé@example.org' }), 'latin1').toString('base64') }, ctx.opts(), /UTF-8/));
  test('UTF-16', () => expectRefused({ param: Buffer.from(`\ufeff${signed()}`, 'utf16le').toString('base64') }, ctx.opts()));
  test('encoding declared as ISO-8859-1', () => refuse(signed().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), /must be UTF-8/));
  test('XML 1.1 declared', () => refuse(signed().replace('version="1.0"', 'version="1.1"'), /XML 1.0/));
  test('binary junk', async () => {
    let seed = 42;
    const junk = Buffer.alloc(512, 0).map(() => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff);
    await expectRefused({ param: junk.toString('base64url') }, ctx.opts());
  });
  test('non-ASCII attribute name (parsers disagree on name characters)', () => refuse(signed().replace('IssueInstant=', '\u{1F600}IssueInstant='), /names must be ASCII/));
  test('non-ASCII element name', () => refuse(signed().replace('<saml:AuthnStatement', '<saml:Advice><x:é xmlns:x="urn:x"/></saml:Advice><saml:AuthnStatement'), /names must be ASCII/));
  test('NUL byte', () => refuse(signed().replace('alice', 'al\u0000ice'), /characters not allowed/));
  test('U+2028 (xmldom would silently turn it into a newline)', () => refuse(signed().replace('alice', 'al\u2028ice'), /line separators/));
  test('garbage base64', () => expectRefused({ param: '%%%not-base64%%%' }, ctx.opts(), /not valid base64url/));
  test('empty string', () => expectRefused({ param: '' }, ctx.opts(), /empty/));
  test('valid base64 of plain text', () => expectRefused({ param: b64url('hello world') }, ctx.opts(), /well-formed/));
  test('truncated document', () => refuse(signed().slice(0, 800), /well-formed/));
});

describe('RFC 7522 section 3 rules', () => {
  test('expired (Conditions NotOnOrAfter beyond the skew)', () => refuse(signed({ notOnOrAfter: iso(NOW - SKEW - 1) }), /^assertion has expired$/));
  test('expiry within the skew is tolerated, and notOnOrAfter is the earliest bound', async () => {
    const claims = await accept(signed({ notBefore: null, notOnOrAfter: iso(NOW - SKEW + 10), scNotOnOrAfter: iso(NOW + 100) }));
    expect(claims.notOnOrAfter).toBe(NOW - SKEW + 10);
  });
  test('bearer SubjectConfirmationData expired', () => refuse(signed({ scNotOnOrAfter: iso(NOW - SKEW) }), /bearer SubjectConfirmation has expired/));
  test('not yet valid (Conditions NotBefore beyond the skew)', () => refuse(signed({ notBefore: iso(NOW + SKEW + 1) }), /^assertion is not yet valid$/));
  test('NotBefore within the skew is tolerated', async () => expect((await accept(signed({ notBefore: iso(NOW + SKEW - 10) }))).notBefore).toBe(NOW + SKEW - 10));
  test('bearer SubjectConfirmationData not yet valid', () => refuse(signedEdited((x) => x.replace('<saml:SubjectConfirmationData ', `<saml:SubjectConfirmationData NotBefore="${iso(NOW + 1000)}" `)), /bearer SubjectConfirmation is not yet valid/));
  test('IssueInstant in the future', () => refuse(signed({ issueInstant: iso(NOW + SKEW + 60) }), /IssueInstant is in the future/));
  test('wrong audience', () => refuse(signed({ audience: 'https://other.example.com/token' }), /audience does not match/));
  test('a second AudienceRestriction that excludes us', () =>
    refuse(signedEdited((x) => x.replace('</saml:Conditions>', '<saml:AudienceRestriction><saml:Audience>urn:other</saml:Audience></saml:AudienceRestriction></saml:Conditions>')), /audience does not match/));
  test('no AudienceRestriction', () => refuse(signed({ audience: null }), /no AudienceRestriction/));
  test('wrong recipient', () => refuse(signed({ recipient: 'https://other.example.com/token' }), /Recipient does not match/));
  test('missing recipient', () => refuse(signed({ recipient: null }), /Recipient does not match/));
  test('no bearer confirmation (holder-of-key only)', () => refuse(signed({ method: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' }), /no bearer SubjectConfirmation/));
  test('bearer confirmation without NotOnOrAfter', () => refuse(signed({ scNotOnOrAfter: null }), /no NotOnOrAfter/));
  test('a usable bearer confirmation among others is found', async () => {
    const subjectXml =
      `<saml:Subject><saml:NameID>bob</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"><saml:SubjectConfirmationData/></saml:SubjectConfirmation>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData Recipient="urn:other" NotOnOrAfter="${iso(NOW + 500)}"/></saml:SubjectConfirmation>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData Recipient="${AUDIENCE}" NotOnOrAfter="${iso(NOW + 200)}"/></saml:SubjectConfirmation>` +
      `</saml:Subject>`;
    const claims = await accept(signed({ subjectXml }));
    expect(claims).toMatchObject({ nameId: 'bob', notOnOrAfter: NOW + 200 });
    expect(claims.nameIdFormat).toBeUndefined();
  });
  test('missing NameID', () =>
    refuse(signed({ subjectXml: `<saml:Subject><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData Recipient="${AUDIENCE}" NotOnOrAfter="${iso(NOW + 300)}"/></saml:SubjectConfirmation></saml:Subject>` }), /no NameID/));
  test('encrypted identifier instead of NameID', () =>
    refuse(signed({ subjectXml: `<saml:Subject><saml:EncryptedID/><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData Recipient="${AUDIENCE}" NotOnOrAfter="${iso(NOW + 300)}"/></saml:SubjectConfirmation></saml:Subject>` }), /no NameID/));
  test('empty NameID', () => refuse(signed({ nameId: '' }), /NameID is empty/));
  test('whitespace-only NameID', () => refuse(signed({ nameId: ' \n ' }), /NameID is empty/));
  test('NameID with an element inside', () => refuse(signed({ nameId: 'alice<x:b xmlns:x="urn:x"/>' }), /single text node/));
  test('NameID with character references is one text node', async () => expect((await accept(signed({ nameId: 'a&amp;b&#x40;c' }))).nameId).toBe('a&b@c'));
  test('NameID with surrounding whitespace is refused, not trimmed', () => refuse(signed({ nameId: '\n   alice@example.org\n  ' }), /NameID has leading or trailing whitespace/));
  test('NameID with a trailing space is refused', () => refuse(signed({ nameId: 'alice ' }), /NameID has leading or trailing whitespace/));
  test('no Subject', () => refuse(signed({ subjectXml: '' }), /no Subject/));
  test.each([
    ['Conditions NotOnOrAfter', { notOnOrAfter: 'tomorrow' }],
    ['Conditions NotBefore', { notBefore: '2026-02-30T00:00:00Z' }],
    ['SubjectConfirmationData NotOnOrAfter', { scNotOnOrAfter: '2026-01-15T12:05:00' }],
    ['IssueInstant', { issueInstant: '2026-01-15 11:59:00Z' }],
  ])('garbage date: %s', (what, o) => refuse(signed(o), new RegExp(`${what} is not a valid xs:dateTime`)));
  test('unknown issuer', () => refuse(signed({ issuer: 'https://unknown.example.net' }), /^unknown issuer$/));
  test('findIdp returning an entry for another issuer', () => refuse(signed(), /^unknown issuer$/, { findIdp: () => ({ ...ctx.idp, issuer: 'https://other' }) }));
  test('Issuer with surrounding whitespace is not the registered issuer', () => refuse(signed({ issuer: ` ${ISSUER}` }), /^unknown issuer$/));
  test('Version other than 2.0', () => refuse(signed().replace('Version="2.0"', 'Version="2.1"'), /Version must be 2.0/));
  test('SAML 1.1 assertion namespace', () => refuse(signed().replaceAll('urn:oasis:names:tc:SAML:2.0:assertion', 'urn:oasis:names:tc:SAML:1.0:assertion'), /not a SAML 2.0 Assertion/));
  test('unknown condition', () => refuse(signedEdited((x) => x.replace('</saml:Conditions>', '<saml:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:x="urn:x" xsi:type="x:Y"/></saml:Conditions>')), /unsupported condition/));
  test('the findIdp exception of the caller propagates unchanged (it is not an invalid assertion)', async () => {
    const outage = new Error('db down');
    await expect(verifySamlBearerAssertion(b64url(signed()), { ...ctx.opts(), findIdp: () => Promise.reject(outage) })).rejects.toBe(outage);
  });
  test('SamlValidationError shape', async () => {
    const error = await refuse(signed({ audience: 'urn:x' }));
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(SamlValidationError);
    expect(error.name).toBe('SamlValidationError');
    expect(error.description).toBe('assertion audience does not match');
  });
});
