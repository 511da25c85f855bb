// Shared test context: fresh keys, IdP registry and a helper asserting refusals.
import { expect } from 'vitest';
import { SamlValidationError, verifySamlBearerAssertion, type SamlIdentityProvider, type SamlVerifyOptions } from '../../src/saml/index.js';
import { AUDIENCE, ISSUER, NOW, SKEW, b64url } from './fixtures.js';
import { keyStore, type KeyStore, type TestKey } from './keys.js';

export interface SamlTestContext {
  store: KeyStore;
  idpKey: TestKey;
  idp: SamlIdentityProvider;
  opts(overrides?: Partial<SamlVerifyOptions> & { certificates?: string[] }): SamlVerifyOptions;
}

export function makeContext(): SamlTestContext {
  const store = keyStore();
  const idpKey = store.make('idp', 'rsa');
  const idp: SamlIdentityProvider = { issuer: ISSUER, certificates: [idpKey.certPem], audiences: [AUDIENCE], recipients: [AUDIENCE] };
  return {
    store,
    idpKey,
    idp,
    opts(overrides = {}) {
      const { certificates, ...rest } = overrides;
      const registered = { ...idp, certificates: certificates ?? idp.certificates };
      return {
        findIdp: (issuer: string) => (issuer === registered.issuer ? registered : undefined),
        nowSeconds: NOW,
        skewSeconds: SKEW,
        ...rest,
      };
    },
  };
}

/** Asserts the verifier refuses `xml` (or a raw parameter) with a SamlValidationError whose description matches. */
export async function expectRefused(
  input: { xml: string } | { param: string },
  opts: SamlVerifyOptions,
  description?: RegExp,
): Promise<SamlValidationError> {
  const param = 'xml' in input ? b64url(input.xml) : input.param;
  let caught: unknown;
  try {
    const claims = await verifySamlBearerAssertion(param, opts);
    throw new Error(`expected a refusal, but the assertion was accepted: ${JSON.stringify(claims)}`);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SamlValidationError);
  const error = caught as SamlValidationError;
  expect(error.description).toBe(error.message);
  // The description is fixed text: it never reflects the assertion or anything inside it.
  expect(error.description).not.toMatch(/[<>]/);
  expect(error.description).not.toMatch(/alice|admin|evil|example\.(org|com)|_a75adf55/);
  expect(error.description.length).toBeLessThan(120);
  if (description) expect(error.description).toMatch(description);
  return error;
}
