import type { Config } from '../config/schema.js';
import type { TokenIssuer } from '../oauth/issuer.js';
import type { Revocation } from '../oauth/revocation.js';
import type { PasswordChecker } from '../oauth/password-check.js';
import type { Store } from '../store/index.js';
import type { Recorder } from './recorder.js';

/** What the management service reads of the configuration. */
export type ManageConfig = Pick<Config, 'throttling' | 'portal' | 'saml'> & { gateway: Pick<Config['gateway'], 'jwtTtl'> } & { oauth: Pick<Config['oauth'], 'allowInsecureCallbacks' | 'issuer' | 'accessTokenValidity'> };

/** The parts every resource module of the management service shares. */
export interface ManageContext {
  store: Store;
  recorder: Recorder;
  revocation: Revocation;
  /** Builds the application tokens the portal's "Generate access token" hands out. */
  issuer: TokenIssuer;
  passwords: PasswordChecker;
  config: ManageConfig;
  /** epoch seconds */
  clock: () => number;
  /** The key-encryption key of the signing keys (resolved when first needed). */
  kek: () => Buffer;
}
