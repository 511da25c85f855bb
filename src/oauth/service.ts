import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { ClientLookup } from './client-auth.js';
import { cachedClients } from './client-cache.js';
import { OriginRegistry } from './cors.js';
import { AttemptBudget } from './attempt-budget.js';
import type { TokenEvents } from './events.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { passwordGrant } from './grants/password.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { saml2BearerGrant } from './grants/saml2-bearer.js';
import type { Grant } from './grants/types.js';
import { createOAuthCore, type OAuthCore } from './core.js';
import { SamlVerifier } from '../saml/index.js';
import type { SecurityEventSink } from '../security-events.js';
import { NO_TOKEN_METRICS, type TokenMetrics } from './metrics.js';

/** The authorization server's parts, wired once per process and shared by every listener. */
export interface OAuthService extends OAuthCore {
  config: Config['oauth'];
  store: Store;
  events: TokenEvents;
  grants: Map<string, Grant>;
  /** Client records for authentication, briefly cached (see client-cache.ts). */
  clients: ClientLookup;
  /** Every origin an application registered, for CORS preflights (see cors.ts). */
  origins: OriginRegistry;
  /** New /authorize login sessions per client address (security.attempts.sessionsPerAddress). */
  newSessions: AttemptBudget;
  /** The saml2-bearer grant's worker pool; closed with close(). */
  saml: SamlVerifier;
  /** Counters of the token endpoint (issued, failed); in-memory increments. */
  metrics: TokenMetrics;
  /** Stops what the service started (the SAML verification workers). */
  close(): Promise<void>;
}

export function createOAuthService(
  config: Config,
  store: Store,
  events: TokenEvents,
  observe: { security?: SecurityEventSink; metrics?: TokenMetrics } = {},
): OAuthService {
  const core = createOAuthCore(config, store, events, observe.security);
  const { format, issuer, revocation, passwords, security } = core;
  const oauth = config.oauth;
  const tokens = store.tokens;
  const grants = new Map<string, Grant>();
  const add = (g: Grant) => grants.set(g.type, g);
  add(passwordGrant({ passwords, tokens, issuer, config: oauth }));
  add(clientCredentialsGrant({ tokens, issuer, config: oauth }));
  add(refreshTokenGrant({ tokens, idps: store.idps, issuer, format, revocation, security, config: oauth }));
  add(authorizationCodeGrant({ codes: store.codes, issuer, format, revocation, security, config: oauth }));
  const saml = new SamlVerifier(config.saml);
  add(saml2BearerGrant({ idps: store.idps, tokens, issuer, saml, recipients: config.saml.recipients, session: config.saml, security, config: oauth }));
  const clients = cachedClients(store.applications, oauth.clientCacheTtl);
  const origins = new OriginRegistry(() => store.applications.allOrigins(), oauth.clientCacheTtl * 1000);
  const { sessionsPerAddress, windowSeconds } = config.security.attempts;
  const newSessions = new AttemptBudget({ perAddress: sessionsPerAddress, perSession: 0, windowSeconds });
  return { ...core, config: oauth, store, events, grants, clients, origins, newSessions, saml, metrics: observe.metrics ?? NO_TOKEN_METRICS,
    close: async () => {
      passwords.close();
      await saml.close();
    },
  };
}
