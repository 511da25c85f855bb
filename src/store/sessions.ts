import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuthorizationRequestsTable, Database, LoginSessionsTable } from './schema/index.js';
import { decodeScope, encodeScope } from './scope-column.js';

/** A browser sign-in session at /authorize. */
export interface LoginSession {
  id: string;
  csrfToken: string;
  userId: string | null;
  username: string | null;
  authenticatedAt: number | null;
  createdAt: number;
  expiresAt: number;
}

/** An authorization request, validated, waiting for login and consent. */
export interface PendingRequest {
  id: string;
  sessionId: string;
  consumerKey: string;
  redirectUri: string;
  redirectUriSent: boolean;
  scope: string[];
  state: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  /** Epoch milliseconds: orders a session's requests (the oldest make room past the cap). */
  createdAt: number;
  expiresAt: number;
}

const sessionFromRow = (r: LoginSessionsTable): LoginSession => ({
  id: r.id,
  csrfToken: r.csrf_token,
  userId: r.user_id,
  username: r.username,
  authenticatedAt: r.authenticated_at == null ? null : Number(r.authenticated_at),
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});

const requestFromRow = (r: AuthorizationRequestsTable): PendingRequest => ({
  id: r.id,
  sessionId: r.session_id,
  consumerKey: r.consumer_key,
  redirectUri: r.redirect_uri,
  redirectUriSent: Number(r.redirect_uri_sent) === 1,
  scope: decodeScope(r.scope),
  state: r.state,
  codeChallenge: r.code_challenge,
  codeChallengeMethod: r.code_challenge_method,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});

/**
 * Sign-in sessions and the authorization requests pending in them, in the database so every
 * node sharing it serves the same browser. Session tokens are stored only as SHA-256.
 */
/** Pending authorization requests one login session may hold. */
export const MAX_PENDING_REQUESTS = 10;

export class SessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(tokenHash: string, csrfToken: string, now: number, ttl: number): Promise<LoginSession> {
    const row: LoginSessionsTable = {
      id: randomUUID(),
      token_hash: tokenHash,
      csrf_token: csrfToken,
      user_id: null,
      username: null,
      authenticated_at: null,
      created_at: now,
      expires_at: now + ttl,
    };
    await this.db.insertInto('login_sessions').values(row).execute();
    return sessionFromRow(row);
  }

  /**
   * The live session of this token hash, if any. A session signed in as a user an admin has
   * locked since is not found (the browser signs in again, and the lock refuses it), so a lock
   * stops the codes /authorize would issue from it at once, on every node.
   */
  async find(tokenHash: string, now: number): Promise<LoginSession | undefined> {
    const row = await this.db
      .selectFrom('login_sessions as s')
      .leftJoin('users as u', 'u.id', 's.user_id')
      .selectAll('s')
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now)
      .where('u.locked_at', 'is', null)
      .executeTakeFirst();
    return row && sessionFromRow(row);
  }

  /** Ends every sign-in session of a user (locked, or a new password); returns how many. */
  async removeOfUser(userId: string): Promise<number> {
    const res = await this.db.deleteFrom('login_sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /**
   * Marks the session signed in and gives it a new token and CSRF token (no session fixation:
   * the token a browser held before login is worthless after it). Its pending requests stay.
   */
  async authenticate(
    id: string,
    user: { id: string; username: string },
    newTokenHash: string,
    newCsrfToken: string,
    now: number,
    ttl: number,
  ): Promise<void> {
    await this.db
      .updateTable('login_sessions')
      .set({ token_hash: newTokenHash, csrf_token: newCsrfToken, user_id: user.id, username: user.username, authenticated_at: now, expires_at: now + ttl })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Stores a pending request. An anonymous session (not signed in yet) is extended to live at
   * least as long as the request, so a request started late in the session still has its full
   * time to sign in; a signed-in session's expiry is the sign-in's lifetime and stays.
   */
  async addRequest(req: PendingRequest): Promise<void> {
    await this.db
      .updateTable('login_sessions')
      .set({ expires_at: req.expiresAt })
      .where('id', '=', req.sessionId)
      .where('user_id', 'is', null)
      .where('expires_at', '<', req.expiresAt)
      .execute();
    // At most MAX_PENDING_REQUESTS per session: the oldest make room (a browser with many tabs
    // keeps its recent ones; one cookie cannot pile up rows).
    const keep = this.db
      .selectFrom('authorization_requests')
      .select('id')
      .where('session_id', '=', req.sessionId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(MAX_PENDING_REQUESTS - 1);
    await this.db.deleteFrom('authorization_requests').where('session_id', '=', req.sessionId).where('id', 'not in', keep).execute();
    await this.db
      .insertInto('authorization_requests')
      .values({
        id: req.id,
        session_id: req.sessionId,
        consumer_key: req.consumerKey,
        redirect_uri: req.redirectUri,
        redirect_uri_sent: req.redirectUriSent ? 1 : 0,
        scope: encodeScope(req.scope),
        state: req.state,
        code_challenge: req.codeChallenge,
        code_challenge_method: req.codeChallengeMethod,
        created_at: req.createdAt,
        expires_at: req.expiresAt,
      })
      .execute();
  }

  /** A live pending request of this session (another session's request is not found). */
  async findRequest(id: string, sessionId: string, now: number): Promise<PendingRequest | undefined> {
    const row = await this.db
      .selectFrom('authorization_requests')
      .selectAll()
      .where('id', '=', id)
      .where('session_id', '=', sessionId)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row && requestFromRow(row);
  }

  /** Removes a pending request; true for the one caller that removed it (a decision is taken once). */
  async takeRequest(id: string, sessionId: string): Promise<boolean> {
    const res = await this.db.deleteFrom('authorization_requests').where('id', '=', id).where('session_id', '=', sessionId).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  async deleteExpiredRequests(now: number, batchSize: number): Promise<number> {
    const victims = this.db.selectFrom('authorization_requests').select('id').where('expires_at', '<=', now).limit(batchSize);
    const res = await this.db.deleteFrom('authorization_requests').where('id', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Expired sessions go with their pending requests (ON DELETE CASCADE). */
  async deleteExpiredSessions(now: number, batchSize: number): Promise<number> {
    const victims = this.db.selectFrom('login_sessions').select('id').where('expires_at', '<=', now).limit(batchSize);
    const res = await this.db.deleteFrom('login_sessions').where('id', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** "Remember my decision": the scopes a user approved for an application. */
export class ConsentStore {
  constructor(private readonly db: Kysely<Database>) {}

  async find(userId: string, applicationId: string): Promise<string[] | undefined> {
    const row = await this.db
      .selectFrom('consents')
      .select('scope')
      .where('user_id', '=', userId)
      .where('application_id', '=', applicationId)
      .executeTakeFirst();
    return row ? decodeScope(row.scope) : undefined;
  }

  /** Adds scopes to what the user has approved for the application. */
  async remember(userId: string, applicationId: string, scope: string[], now: number): Promise<void> {
    const previous = (await this.find(userId, applicationId)) ?? [];
    const merged = encodeScope([...new Set([...previous, ...scope])].sort());
    await this.db
      .insertInto('consents')
      .values({ user_id: userId, application_id: applicationId, scope: merged, updated_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'application_id']).doUpdateSet({ scope: merged, updated_at: now }))
      .execute();
  }
}
