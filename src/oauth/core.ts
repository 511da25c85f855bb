import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { TokenEvents } from './events.js';
import { NO_SECURITY_EVENTS, type SecurityEventSink } from '../security-events.js';
import { TokenIssuer } from './issuer.js';
import { PasswordChecker } from './password-check.js';
import { Revocation } from './revocation.js';
import { opaqueTokens, type TokenFormat } from './token-format.js';

/** The parts of the authorization server the management plane uses too: no grant, no endpoint. */
export interface OAuthCore {
  format: TokenFormat;
  issuer: TokenIssuer;
  revocation: Revocation;
  passwords: PasswordChecker;
  /** Where security events go (the warn lines and their counters). */
  security: SecurityEventSink;
}

export function createOAuthCore(config: Pick<Config, 'security'>, store: Pick<Store, 'tokens' | 'users' | 'lockout'>, events: TokenEvents, security: SecurityEventSink = NO_SECURITY_EVENTS): OAuthCore {
  const format = opaqueTokens;
  return {
    format,
    issuer: new TokenIssuer(format),
    revocation: new Revocation(store.tokens, events),
    passwords: new PasswordChecker(store.users, store.lockout, config.security, security),
    security,
  };
}
