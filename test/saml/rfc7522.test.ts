// RFC 7522 §3 items 2 and 3 with assertions signed by xmlsec1: the Audience names the
// authorization server, the bearer Recipient its token endpoint; SubjectConfirmationData may be
// left out when Conditions carries the NotOnOrAfter.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acceptedAudiences, acceptedRecipients, verifySamlBearerAssertion, type SamlIdentityProvider } from '../../src/saml/index.js';
import { expectRefused, makeContext, type SamlTestContext } from './context.js';
import { ISSUER, NOW, SKEW, assertionXml, b64url, iso, type AssertionOptions } from './fixtures.js';
import { xmlsecSign, xmlsecVersion } from './xmlsec.js';

const AS = 'https://as.example.com';
const version = xmlsecVersion();
if (!version && process.env.GATEHOUSE_REQUIRE_SERVICES === '1') {
  test('xmlsec1 is installed (GATEHOUSE_REQUIRE_SERVICES=1)', () => {
    throw new Error('xmlsec1 not found on PATH: apt-get install -y xmlsec1');
  });
}

describe.skipIf(!version)('Audience and Recipient (RFC 7522 §3), xmlsec1-signed', () => {
  let ctx: SamlTestContext;
  beforeAll(() => {
    ctx = makeContext();
  });
  afterAll(() => ctx?.store.cleanup());

  /** The IdP as the grant registers it: by default, or with --alias / --audience. */
  const idp = (registered: { alias?: string; audiences?: string[] } = {}): SamlIdentityProvider => {
    const record = { alias: registered.alias ?? null, audiences: registered.audiences ?? [] };
    return { issuer: ISSUER, certificates: [ctx.idpKey.certPem], audiences: acceptedAudiences(record, AS), recipients: acceptedRecipients(record, AS, []) };
  };
  const signed = (o: AssertionOptions) => xmlsecSign(assertionXml(o), ctx.idpKey.keyPath, ctx.idpKey.certPath);
  const opts = (entry: SamlIdentityProvider) => ({ findIdp: (i: string) => (i === ISSUER ? entry : undefined), nowSeconds: NOW, skewSeconds: SKEW });
  const accept = (o: AssertionOptions, entry = idp()) => verifySamlBearerAssertion(b64url(signed(o)), opts(entry));
  const refuse = (o: AssertionOptions, description: RegExp, entry = idp()) => expectRefused({ xml: signed(o) }, opts(entry), description);

  test('the common IdP shape is accepted by default: Audience the entity ID, Recipient the token endpoint', async () => {
    const claims = await accept({ audience: AS, recipient: `${AS}/token` });
    expect(claims).toMatchObject({ issuer: ISSUER, nameId: 'alice@example.org', audience: AS, notOnOrAfter: NOW + 300 });
  });

  test('the token endpoint URL as Audience, and /login (the same endpoint) as Recipient, are accepted', async () => {
    expect((await accept({ audience: `${AS}/token`, recipient: `${AS}/token` })).audience).toBe(`${AS}/token`);
    expect((await accept({ audience: AS, recipient: `${AS}/login` })).audience).toBe(AS);
  });

  test('a Recipient that is not a token endpoint URL of this node is refused, even the entity ID', async () => {
    await refuse({ audience: AS, recipient: AS }, /^bearer SubjectConfirmationData Recipient does not match$/);
    await refuse({ audience: AS, recipient: 'https://as.example.com/authorize' }, /Recipient does not match/);
    await refuse({ audience: 'https://other.example.com', recipient: `${AS}/token` }, /^assertion audience does not match$/);
  });

  test('--alias keeps working: accepted as Audience and as Recipient, and is then the only audience', async () => {
    const alias = 'urn:wso2:gatehouse';
    expect((await accept({ audience: alias, recipient: alias }, idp({ alias }))).audience).toBe(alias);
    expect((await accept({ audience: alias, recipient: `${AS}/token` }, idp({ alias }))).audience).toBe(alias);
    await refuse({ audience: AS, recipient: `${AS}/token` }, /audience does not match/, idp({ alias }));
  });

  test('registered --audience values replace the defaults', async () => {
    const entry = idp({ audiences: ['urn:as:prod', AS] });
    expect((await accept({ audience: 'urn:as:prod', recipient: `${AS}/token` }, entry)).audience).toBe('urn:as:prod');
    await refuse({ audience: `${AS}/token`, recipient: `${AS}/token` }, /audience does not match/, entry);
  });

  test('Conditions@NotOnOrAfter present: a bearer SubjectConfirmation without SubjectConfirmationData is accepted', async () => {
    const claims = await accept({ audience: AS, confirmationData: false, notOnOrAfter: iso(NOW + 600) });
    // The Conditions window is the only one; the Recipient is not checked (there is none).
    expect(claims).toMatchObject({ audience: AS, nameId: 'alice@example.org', notOnOrAfter: NOW + 600, notBefore: NOW - 120 });
    await refuse({ audience: AS, confirmationData: false, notOnOrAfter: iso(NOW - SKEW) }, /^assertion has expired$/);
  });

  test('without Conditions@NotOnOrAfter the SubjectConfirmationData is still required', () =>
    refuse({ audience: AS, confirmationData: false, notOnOrAfter: null }, /^bearer SubjectConfirmation needs SubjectConfirmationData when Conditions has no NotOnOrAfter$/));

  test('SubjectConfirmationData that is present is checked even when Conditions has NotOnOrAfter', async () => {
    await refuse({ audience: AS, recipient: 'https://elsewhere.example/acs', notOnOrAfter: iso(NOW + 600) }, /Recipient does not match/);
    await refuse({ audience: AS, recipient: `${AS}/token`, scNotOnOrAfter: null, notOnOrAfter: iso(NOW + 600) }, /has no NotOnOrAfter/);
  });
});
