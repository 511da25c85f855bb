import { newOpaqueToken, uuidv7 } from '../../crypto/random.js';
import type { CodeStore } from '../../store/codes.js';
import type { ConsentStore } from '../../store/sessions.js';
import { MANAGE_SCOPE } from '../scope.js';
import type { TokenFormat } from '../token-format.js';
import { withParams } from './redirect-uri.js';
import type { AuthorizationRequest } from './request.js';

/** What a decided authorization needs, whether it came straight from /authorize or from a pending request. */
export type Authorization = AuthorizationRequest;

export interface FlowDeps {
  codes: Pick<CodeStore, 'create'>;
  consents: Pick<ConsentStore, 'find' | 'remember'>;
  format: TokenFormat;
  issuer: string;
  codeValidity: number;
}

/**
 * Whether consent may be skipped: the user already approved (and asked us to remember) every
 * scope of this request, for a confidential client. A public client (no secret) always gets the
 * consent page: anyone who knows its client_id can start its flow (and loopback callbacks match
 * on any port), so a remembered decision must not hand them a code (RFC 6749 §10.2, RFC 8252 §8.6).
 * A request for `manage` always gets it too: it hands over the user's admin-API power as their
 * role is at the time (the page words it by role), and a role can grow after a decision.
 * A signed-in session may skip the login, never the consent.
 */
export const mayRememberConsent = (a: Authorization): boolean => a.client.secretHash !== null && !a.scope.includes(MANAGE_SCOPE);

export async function consentRemembered(deps: FlowDeps, userId: string, a: Authorization): Promise<boolean> {
  if (!mayRememberConsent(a)) return false;
  const remembered = await deps.consents.find(userId, a.client.applicationId);
  if (!remembered) return false;
  const have = new Set(remembered);
  return a.scope.every((s) => have.has(s));
}

/**
 * Issues a code (256 random bits, stored as SHA-256, single use) bound to the client, the
 * redirect URI, the PKCE challenge, the user and the scope; returns the redirect to the client.
 */
export async function issueCode(deps: FlowDeps, a: Authorization, user: { username: string }, now: number): Promise<string> {
  const code = newOpaqueToken();
  await deps.codes.create({
    codeHash: deps.format.key(code),
    grantId: uuidv7(),
    consumerKey: a.client.consumerKey,
    applicationId: a.client.applicationId,
    redirectUri: a.redirectUri,
    redirectUriSent: a.redirectUriSent,
    codeChallenge: a.codeChallenge ?? null,
    codeChallengeMethod: a.codeChallengeMethod ?? null,
    subject: user.username,
    username: user.username,
    scope: a.scope,
    issuedAt: now,
    expiresAt: now + deps.codeValidity,
  });
  return withParams(a.redirectUri, { code, state: a.state, iss: deps.issuer });
}

/** The error redirect to the client (RFC 6749 §4.1.2.1), with iss (RFC 9207). */
export function errorRedirect(deps: Pick<FlowDeps, 'issuer'>, redirectUri: string, error: string, description: string, state: string | undefined): string {
  return withParams(redirectUri, { error, error_description: description, state, iss: deps.issuer });
}

/** How the consent page names where the browser goes next: the origin, or the scheme of a native app's URI. */
export function destinationOf(redirectUri: string): string {
  try {
    const u = new URL(redirectUri);
    if (u.protocol === 'https:' || u.protocol === 'http:') return u.origin;
    return `the app (${u.protocol})`;
  } catch {
    return 'the application';
  }
}
