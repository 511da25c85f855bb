import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { Conflict } from '../errors.js';
import { nowSeconds } from '../clock.js';
import { compile } from './compiled.js';
import { isUniqueViolation } from './errors.js';
import { pageOf, type StorePage } from './page.js';
import type { Database, UsersTable } from './schema/index.js';

export const ROLES = ['subscriber', 'publisher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  username: string;
  role: Role;
  passwordHash: string;
  createdAt: number;
  /** When an admin locked the account; null when it is not locked. */
  lockedAt: number | null;
}

const fromRow = (r: UsersTable): User => ({
  id: r.id,
  username: r.username,
  role: r.role as Role,
  passwordHash: r.password_hash,
  createdAt: Number(r.created_at),
  lockedAt: r.locked_at == null ? null : Number(r.locked_at),
});

/** Users (API Store subscribers, publishers, admins) with their password hashes. */
export class UserStore {
  /** Every sign-in reads it: compiled once (src/store/compiled.ts). */
  private readonly byUsername = compile<UsersTable>((p) => this.db.selectFrom('users').selectAll().where('username', '=', p(0)));

  constructor(private readonly db: Kysely<Database>) {}

  async create(username: string, passwordHash: string, role: Role): Promise<User> {
    const row: UsersTable = { id: randomUUID(), username, password_hash: passwordHash, role, created_at: nowSeconds(), locked_at: null };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`user "${username}" already exists`, 'username');
      throw err;
    }
    return fromRow(row);
  }

  /** A user whose name equals this one but for case (ASCII, as usernames are), if any. */
  async findCaseVariant(username: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where(sql`lower(username)`, '=', username.toLowerCase()).executeTakeFirst();
    return row && fromRow(row);
  }

  async findByUsername(username: string): Promise<User | undefined> {
    const row = (await this.byUsername.run(this.db, [username])).rows[0];
    return row && fromRow(row);
  }

  /** Users in username order, after `after`. */
  async list(opts: { after?: string; limit: number }): Promise<StorePage<User, string>> {
    let q = this.db.selectFrom('users').selectAll().orderBy('username').limit(opts.limit + 1);
    if (opts.after !== undefined) q = q.where('username', '>', opts.after);
    return pageOf((await q.execute()).map(fromRow), opts.limit, (u) => u.username);
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countByRole(role: Role): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', role).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Sets the given fields; false when there is no such user. */
  async update(username: string, fields: { role?: Role; passwordHash?: string; lockedAt?: number | null }): Promise<boolean> {
    const set: Partial<UsersTable> = {};
    if (fields.role !== undefined) set.role = fields.role;
    if (fields.passwordHash !== undefined) set.password_hash = fields.passwordHash;
    if (fields.lockedAt !== undefined) set.locked_at = fields.lockedAt;
    if (Object.keys(set).length === 0) return (await this.findByUsername(username)) !== undefined;
    const res = await this.db.updateTable('users').set(set).where('username', '=', username).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Removes the user; their applications, keys, consents and sessions go with them (ON DELETE CASCADE). */
  async remove(username: string): Promise<boolean> {
    const res = await this.db.deleteFrom('users').where('username', '=', username).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
