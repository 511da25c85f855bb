import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual, sha256 } from '../../crypto/hash.js';
import { randomToken } from '../../crypto/random.js';
import type { LoginSession, SessionStore } from '../../store/sessions.js';

/** How long a sign-in lasts: within it, further authorization requests skip the login form. */
export const SESSION_TTL = 3600;
/** How long a browser has to sign in and decide on one authorization request. */
export const REQUEST_TTL = 600;

/**
 * The sign-in session cookie. It holds 256 random bits; the database keeps only their SHA-256,
 * so several nodes sharing it serve the same browser. HttpOnly, SameSite=Lax, Path=/authorize
 * (never sent with the API traffic the gateway proxies on the same listeners), and on HTTPS
 * Secure with the __Secure- prefix, so a cookie set over plain HTTP cannot stand in for it.
 */
export class BrowserSessions {
  readonly cookieName: string;

  constructor(
    private readonly store: Pick<SessionStore, 'create' | 'find' | 'authenticate'>,
    private readonly secure: boolean,
  ) {
    this.cookieName = secure ? '__Secure-gatehouse_session' : 'gatehouse_session';
  }

  private setCookie(reply: FastifyReply, token: string): void {
    reply.setCookie(this.cookieName, token, { path: '/authorize', httpOnly: true, secure: this.secure, sameSite: 'lax' });
  }

  /** The live session the browser presents, if any. */
  async current(request: FastifyRequest, now: number): Promise<LoginSession | undefined> {
    const token = request.cookies[this.cookieName];
    if (!token || token.length > 128) return undefined;
    return this.store.find(sha256(token), now);
  }

  /** Starts a new anonymous session and sets its cookie. */
  async start(reply: FastifyReply, now: number): Promise<LoginSession> {
    const token = randomToken(32);
    const session = await this.store.create(sha256(token), randomToken(32), now, REQUEST_TTL);
    this.setCookie(reply, token);
    return session;
  }

  /** Signs the session in under a fresh token and CSRF token (the old ones stop working). */
  async signIn(reply: FastifyReply, session: LoginSession, user: { id: string; username: string }, now: number): Promise<void> {
    const token = randomToken(32);
    await this.store.authenticate(session.id, user, sha256(token), randomToken(32), now, SESSION_TTL);
    this.setCookie(reply, token);
  }
}

/** Synchronizer-token check: the form's token must equal the session's, compared in constant time. */
export function csrfValid(session: LoginSession, presented: unknown): boolean {
  return typeof presented === 'string' && presented.length > 0 && constantTimeEqual(presented, session.csrfToken);
}
