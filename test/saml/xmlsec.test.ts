// Positive interoperability tests: assertions signed by xmlsec1 (libxml2/OpenSSL), an XML-DSig
// implementation independent of xml-crypto, must verify and yield exactly the expected claims.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifySamlBearerAssertion, type SamlBearerClaims } from '../../src/saml/index.js';
import { makeContext, expectRefused, type SamlTestContext } from './context.js';
import { ALG, AUDIENCE, DEFAULT_ID, ISSUER, NOW, assertionXml, b64url } from './fixtures.js';
import type { TestKey } from './keys.js';
import { signXml } from './sign.js';
import { xmlsecSign, xmlsecVerify, xmlsecVersion } from './xmlsec.js';

const version = xmlsecVersion();
const required = process.env.GATEHOUSE_REQUIRE_SERVICES === '1';

if (!version) {
  if (required) {
    test('xmlsec1 is installed (GATEHOUSE_REQUIRE_SERVICES=1)', () => {
      throw new Error('xmlsec1 was not found on PATH but GATEHOUSE_REQUIRE_SERVICES=1: install it (Debian: apt-get install -y xmlsec1)');
    });
  } else {
    console.log('[saml] SKIPPING xmlsec1 interoperability tests: xmlsec1 not found on PATH (apt-get install -y xmlsec1; set GATEHOUSE_REQUIRE_SERVICES=1 to fail instead)');
  }
}

const EXPECTED: SamlBearerClaims = {
  issuer: ISSUER,
  assertionId: DEFAULT_ID,
  nameId: 'alice@example.org',
  nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  audience: AUDIENCE,
  notOnOrAfter: NOW + 300, // the bearer confirmation ends before Conditions (NOW + 600)
  notBefore: NOW - 120,
  issueInstant: NOW - 60,
  sessionIndex: '_session-42',
};

describe.skipIf(!version)(`interop with ${version ?? 'xmlsec1'}`, () => {
  let ctx: SamlTestContext;
  let ecKey: TestKey;
  let nextKey: TestKey;

  beforeAll(() => {
    ctx = makeContext();
    ecKey = ctx.store.make('idp-ec', 'ec');
    nextKey = ctx.store.make('idp-next', 'rsa');
  });
  afterAll(() => ctx?.store.cleanup());

  test.each([
    ['RSA-SHA256 / SHA-256, compact, no KeyInfo', {}, false],
    ['RSA-SHA256 / SHA-256, pretty-printed, X509Data filled by xmlsec1', { pretty: true, signatureOptions: { keyInfo: '<ds:X509Data/>' } }, false],
    ['RSA-SHA384 / SHA-384', { signatureOptions: { signatureAlgorithm: ALG.rsaSha384, digestAlgorithm: ALG.sha384 } }, false],
    ['RSA-SHA512 / SHA-512', { signatureOptions: { signatureAlgorithm: ALG.rsaSha512, digestAlgorithm: ALG.sha512 } }, false],
    ['ECDSA-SHA256 (P-256) / SHA-256', { signatureOptions: { signatureAlgorithm: ALG.ecdsaSha256, keyInfo: '<ds:X509Data/>' } }, true],
    ['ECDSA-SHA384 (P-256) / SHA-512', { signatureOptions: { signatureAlgorithm: ALG.ecdsaSha384, digestAlgorithm: ALG.sha512 } }, true],
  ] as const)('%s verifies with the right claims', async (_name, options, ec) => {
    const key = ec ? ecKey : ctx.idpKey;
    const signed = xmlsecSign(assertionXml(options), key.keyPath, key.certPath);
    expect(signed).toMatch(/<ds:SignatureValue>[A-Za-z0-9+/=\s]{40,}<\/ds:SignatureValue>/);
    const claims = await verifySamlBearerAssertion(b64url(signed), ctx.opts({ certificates: [key.certPem] }));
    expect(claims).toEqual(EXPECTED);
    // Standard base64 with MIME line breaks works the same.
    const mime = Buffer.from(signed).toString('base64').replace(/.{76}/g, '$&\r\n');
    expect(await verifySamlBearerAssertion(mime, ctx.opts({ certificates: [key.certPem] }))).toEqual(EXPECTED);
  });

  test('exc-c14n InclusiveNamespaces PrefixList and xsi:type attribute values (as common IdPs emit)', async () => {
    const extraXml =
      '<saml:AttributeStatement><saml:Attribute Name="groups"><saml:AttributeValue xsi:type="xs:string">admins &amp; users</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>';
    const template = assertionXml({ pretty: true, extraXml })
      .replace('<saml:Assertion ', '<saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ')
      .replace(
        `<ds:Transform Algorithm="${ALG.excC14n}"/>`,
        `<ds:Transform Algorithm="${ALG.excC14n}"><ec:InclusiveNamespaces xmlns:ec="${ALG.excC14n}" PrefixList="xs"/></ds:Transform>`,
      );
    const signed = xmlsecSign(template, ctx.idpKey.keyPath, ctx.idpKey.certPath);
    expect(await verifySamlBearerAssertion(b64url(signed), ctx.opts())).toEqual(EXPECTED);
    // The PrefixList is signed: dropping it changes the canonical form and breaks the signature.
    await expectRefused({ xml: signed.replace(' PrefixList="xs"', '') }, ctx.opts());
  });

  test('key rollover: the second registered certificate verifies; an unregistered one does not', async () => {
    const signed = xmlsecSign(assertionXml(), nextKey.keyPath, nextKey.certPath);
    const claims = await verifySamlBearerAssertion(b64url(signed), ctx.opts({ certificates: [ctx.idpKey.certPem, nextKey.certPem] }));
    expect(claims).toEqual(EXPECTED);
    // Different key types in the list (EC first) are fine too.
    expect(await verifySamlBearerAssertion(b64url(signed), ctx.opts({ certificates: [ecKey.certPem, 'not a certificate', nextKey.certPem] }))).toEqual(EXPECTED);
    await expectRefused({ xml: signed }, ctx.opts({ certificates: [ctx.idpKey.certPem, ecKey.certPem] }), /not valid for any certificate/);
  });

  test('an xmlsec1-signed assertion that is modified afterwards is refused', async () => {
    const signed = xmlsecSign(assertionXml(), ctx.idpKey.keyPath, ctx.idpKey.certPath);
    await expectRefused({ xml: signed.replace('alice@example.org', 'admin@example.org') }, ctx.opts(), /does not match its signature digest/);
  });

  test('the in-process test signer (used for the negative corpus) produces signatures xmlsec1 accepts', () => {
    const rsa = signXml(assertionXml({ pretty: true }), ctx.idpKey);
    expect(xmlsecVerify(rsa, ctx.idpKey.certPath)).toBe(true);
    const ec = signXml(assertionXml({ signatureOptions: { signatureAlgorithm: ALG.ecdsaSha256 } }), ecKey);
    expect(xmlsecVerify(ec, ecKey.certPath)).toBe(true);
    // ...and the cross-check can fail.
    expect(xmlsecVerify(rsa.replace('alice@', 'mallory@'), ctx.idpKey.certPath)).toBe(false);
    expect(xmlsecVerify(rsa, nextKey.certPath)).toBe(false);
  });
});
