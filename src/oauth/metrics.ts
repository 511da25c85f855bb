import { Counter, type Registry } from 'prom-client';
import type { SecurityEventName } from '../security-events.js';

/**
 * The token service's counters. Every method is an in-memory increment (label children are
 * kept, so a token request hashes no labels); nothing is read or written elsewhere.
 *
 *  - gatehouse_oauth_tokens_issued_total{grant_type,key_type}   successful /token answers
 *  - gatehouse_oauth_token_failures_total{grant_type,error}     /token refusals by RFC 6749 error code
 *  - gatehouse_oauth_client_auth_failures_total{reason}         failed client authentications
 *  - gatehouse_oauth_lockouts_total                             lock-outs started
 *  - gatehouse_oauth_refresh_reuse_total                        refresh-token reuse: grant revoked
 *  - gatehouse_oauth_code_reuse_total                           authorization-code reuse: grant revoked
 *  - gatehouse_oauth_saml_refusals_total{reason}                saml2-bearer assertions refused
 */
export interface TokenMetrics {
  issued(grantType: string, keyType: string): void;
  failed(grantType: string, error: string): void;
  /** One security event (see src/security-events.ts), counted whether or not its line was rate-limited. */
  security(event: SecurityEventName, reason: string): void;
}

export const NO_TOKEN_METRICS: TokenMetrics = { issued() {}, failed() {}, security() {} };

type Child = { inc(): void };

/** Counter children by label values, made once. Label values come from bounded sets only. */
function children<L extends string>(counter: Counter<L>): (...values: string[]) => Child {
  const cache = new Map<string, Child>();
  return (...values) => {
    const key = values.join('\n');
    let c = cache.get(key);
    if (c === undefined) {
      c = counter.labels(...values);
      cache.set(key, c);
    }
    return c;
  };
}

export function createTokenMetrics(registry: Registry): TokenMetrics {
  const registers = [registry];
  const issued = children(new Counter({ name: 'gatehouse_oauth_tokens_issued_total', help: 'Tokens issued by /token, by grant type and key type', labelNames: ['grant_type', 'key_type'] as const, registers }));
  const failed = children(new Counter({ name: 'gatehouse_oauth_token_failures_total', help: '/token requests refused, by grant type and RFC 6749 error code', labelNames: ['grant_type', 'error'] as const, registers }));
  const clientAuth = children(new Counter({ name: 'gatehouse_oauth_client_auth_failures_total', help: 'Failed client authentications at /token, /revoke and /introspect, by reason', labelNames: ['reason'] as const, registers }));
  const lockouts = new Counter({ name: 'gatehouse_oauth_lockouts_total', help: 'Lock-outs started (a name reached security.lockout.maxFailures)', registers });
  const refreshReuse = new Counter({ name: 'gatehouse_oauth_refresh_reuse_total', help: 'Refresh-token reuse detections (the grant was revoked)', registers });
  const codeReuse = new Counter({ name: 'gatehouse_oauth_code_reuse_total', help: 'Authorization-code reuse detections (the grant was revoked)', registers });
  const saml = children(new Counter({ name: 'gatehouse_oauth_saml_refusals_total', help: 'saml2-bearer assertions refused, by reason', labelNames: ['reason'] as const, registers }));
  return {
    issued: (grantType, keyType) => issued(grantType, keyType).inc(),
    failed: (grantType, error) => failed(grantType, error).inc(),
    security(event, reason) {
      switch (event) {
        case 'lockout_started':
          return lockouts.inc();
        case 'refresh_token_reuse':
          return refreshReuse.inc();
        case 'authorization_code_reuse':
          return codeReuse.inc();
        case 'saml_assertion_refused':
          return saml(reason).inc();
        case 'client_authentication_failed':
          return clientAuth(reason).inc();
        default:
          return undefined;
      }
    },
  };
}
