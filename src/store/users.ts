import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashPassword } from '../crypto/password.js';
import { Conflict } from '../errors.js';
import { isUniqueViolation } from './errors.js';
import { nowSeconds } from '../clock.js';
import type { Database } from './schema/index.js';

export const ROLES = ['subscriber', 'publisher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  username: string;
  role: Role;
  passwordHash: string;
}

export const USERNAME_PATTERN = /^[A-Za-z0-9._@+-]{1,255}$/;

export class UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(username: string, password: string, role: Role): Promise<User> {
    const passwordHash = await hashPassword(password);
    const row = { id: randomUUID(), username, password_hash: passwordHash, role, created_at: nowSeconds() };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`user "${username}" already exists`);
      throw err;
    }
    return { id: row.id, username, role, passwordHash };
  }

  async findByUsername(username: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'role', 'password_hash'])
      .where('username', '=', username)
      .executeTakeFirst();
    return row && { id: row.id, username: row.username, role: row.role as Role, passwordHash: row.password_hash };
  }
}
