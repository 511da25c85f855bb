import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { sha256 } from '../crypto/hash.js';
import { randomToken } from '../crypto/random.js';
import type { Role } from '../store/users.js';
import type { Actor } from './actor.js';
import type { ManageContext } from './context.js';
import type { From } from './sign-in.js';
import type { SignIn } from './sign-in.js';
import type { Users } from './users.js';

/** How long a portal sign-in lasts. */
export const PORTAL_SESSION_TTL = 8 * 3600;

/** A signed-in browser: who it is, and its CSRF token. */
export interface PortalSignIn {
  actor: Actor;
  sessionId: string;
  csrfToken: string;
}

/**
 * Developer portal sign-ins. The browser holds 256 random bits (its cookie); the database keeps
 * their SHA-256, the user and the session's CSRF token. Every request reads the user again, so
 * a changed role applies at once and a locked account's sessions end at once.
 *
 * The flash is what the next page shows once (a notice, a generated secret): it is stored
 * encrypted with AES-256-GCM under a key derived from the browser's token, which the server
 * never stores, so not even the database holds a generated secret in the clear.
 */
export class PortalSessions {
  constructor(
    private readonly c: ManageContext,
    private readonly signIn: SignIn,
    private readonly users: Users,
  ) {}

  /** Signs a user in with their password (the token endpoint's lock-out); the token goes in the cookie. */
  async start(username: string, password: string, from: From): Promise<{ token: string } & PortalSignIn> {
    const actor = await this.signIn.withPassword(username, password, from);
    return this.open(actor);
  }

  /** Self sign-up, signed in at once. */
  async signUp(username: string, password: string, from: From): Promise<{ token: string } & PortalSignIn> {
    await this.users.signUp({ username, password }, from);
    return this.start(username, password, from);
  }

  private async open(actor: Actor): Promise<{ token: string } & PortalSignIn> {
    const user = await this.c.store.users.findByUsername(actor.username);
    const token = randomToken(32);
    const csrfToken = randomToken(32);
    const sessionId = await this.c.store.portalSessions.create(sha256(token), csrfToken, user!.id, this.c.clock(), PORTAL_SESSION_TTL);
    return { token, actor, sessionId, csrfToken };
  }

  /** The sign-in this cookie token stands for, if it is live and its user may still sign in. */
  async current(token: string, from: From): Promise<PortalSignIn | undefined> {
    if (token.length > 128) return undefined;
    const s = await this.c.store.portalSessions.find(sha256(token), this.c.clock());
    if (!s || s.lockedAt !== null) return undefined;
    const actor: Actor = { username: s.username, role: s.role as Role, kind: 'user', via: from.via, ...(from.address !== undefined ? { address: from.address } : {}) };
    return { actor, sessionId: s.id, csrfToken: s.csrfToken };
  }

  async end(sessionId: string): Promise<void> {
    await this.c.store.portalSessions.remove(sessionId);
  }

  async setFlash(token: string, sessionId: string, flash: unknown): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', flashKey(token), iv);
    const sealed = Buffer.concat([iv, cipher.update(JSON.stringify(flash), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    await this.c.store.portalSessions.setFlash(sessionId, sealed.toString('base64url'));
  }

  /** The flash, once (it is cleared as it is read); undefined when none, or when it does not open. */
  async takeFlash(token: string, sessionId: string): Promise<unknown> {
    const stored = await this.c.store.portalSessions.takeFlash(sessionId);
    if (stored === null) return undefined;
    try {
      const sealed = Buffer.from(stored, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', flashKey(token), sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return JSON.parse(Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString('utf8'));
    } catch {
      return undefined;
    }
  }
}

const flashKey = (token: string): Buffer => Buffer.from(hkdfSync('sha256', token, '', 'gatehouse portal flash', 32));
