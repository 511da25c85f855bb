export type { SamlBearerClaims, SamlIdentityProvider, SamlVerifyOptions } from './types.js';
export { SamlValidationError } from './errors.js';
export { decodeAssertionParam } from './base64.js';
export { verifySamlBearerAssertion } from './verify.js';
