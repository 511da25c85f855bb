export type { SamlBearerClaims, SamlDocumentLimits, SamlIdentityProvider, SamlVerifyOptions } from './types.js';
export { SamlValidationError } from './errors.js';
export { decodeAssertionParam } from './base64.js';
export { verifyDecodedAssertion, verifySamlBearerAssertion } from './verify.js';
export { SamlUnavailableError, SamlWorkerPool } from './pool.js';
export { SamlThrottledError, SamlVerifier, type SamlSettings } from './verifier.js';
export { acceptedAudiences, acceptedRecipients, defaultAudiences, tokenEndpointUrls } from './audiences.js';
