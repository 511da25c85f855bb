import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, PortalSessionsTable } from './schema/index.js';

/** A developer portal sign-in, with the user it belongs to. */
export interface PortalSession {
  id: string;
  csrfToken: string;
  userId: string;
  username: string;
  role: string;
  /** The user's lock, read with the session: a locked user's sessions stop at once. */
  lockedAt: number | null;
  expiresAt: number;
}

/** Portal sign-ins, in the database so every node serves the same browser. */
export class PortalSessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(tokenHash: string, csrfToken: string, userId: string, now: number, ttl: number): Promise<string> {
    const row: PortalSessionsTable = { id: randomUUID(), token_hash: tokenHash, csrf_token: csrfToken, user_id: userId, flash: null, created_at: now, expires_at: now + ttl };
    await this.db.insertInto('portal_sessions').values(row).execute();
    return row.id;
  }

  /** The live session of this token hash, with its user's name. */
  async find(tokenHash: string, now: number): Promise<PortalSession | undefined> {
    const row = await this.db
      .selectFrom('portal_sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.id', 's.csrf_token', 's.user_id', 'u.username', 'u.role', 'u.locked_at', 's.expires_at'])
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        csrfToken: row.csrf_token,
        userId: row.user_id,
        username: row.username,
        role: row.role,
        lockedAt: row.locked_at == null ? null : Number(row.locked_at),
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async setFlash(id: string, flash: string | null): Promise<void> {
    await this.db.updateTable('portal_sessions').set({ flash }).where('id', '=', id).execute();
  }

  /** The flash, cleared as it is read: of two readers, only the one that cleared it gets it. */
  async takeFlash(id: string): Promise<string | null> {
    const row = await this.db.selectFrom('portal_sessions').select('flash').where('id', '=', id).executeTakeFirst();
    if (!row?.flash) return null;
    const res = await this.db.updateTable('portal_sessions').set({ flash: null }).where('id', '=', id).where('flash', '=', row.flash).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1 ? row.flash : null;
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('portal_sessions').where('id', '=', id).execute();
  }

  /** Ends every portal session of a user (locked, or a new password); returns how many. */
  async removeOfUser(userId: string): Promise<number> {
    const res = await this.db.deleteFrom('portal_sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async deleteExpired(now: number, batchSize: number): Promise<number> {
    const victims = this.db.selectFrom('portal_sessions').select('id').where('expires_at', '<=', now).limit(batchSize);
    const res = await this.db.deleteFrom('portal_sessions').where('id', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
