import type { Config } from '../config/schema.js';
import { ApiStore } from './apis.js';
import { ApplicationStore } from './applications.js';
import { authorizationStores } from './authorization.js';
import type { CodeStore } from './codes.js';
import { migrate, openDatabase, type Db } from './db.js';
import { IdpStore } from './idps.js';
import { LockoutStore } from './lockout.js';
import type { ConsentStore, SessionStore } from './sessions.js';
import { TokenStore } from './tokens.js';
import { UserStore } from './users.js';

/** The data layer: one kysely database (SQLite or PostgreSQL) and a store per area. */
export interface Store {
  db: Db;
  users: UserStore;
  applications: ApplicationStore;
  tokens: TokenStore;
  apis: ApiStore;
  idps: IdpStore;
  lockout: LockoutStore;
  /** Authorization codes, browser sign-in sessions and remembered consents (authorization code grant). */
  codes: CodeStore;
  sessions: SessionStore;
  consents: ConsentStore;
  close(): Promise<void>;
}

export async function openStore(config: Pick<Config, 'dataDir' | 'database' | 'security'>): Promise<Store> {
  const db = await openDatabase(config);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  const k = db.kysely;
  const tokens = new TokenStore(k);
  const authz = authorizationStores(k, tokens);
  return {
    db,
    users: new UserStore(k),
    applications: new ApplicationStore(k),
    tokens,
    apis: new ApiStore(k),
    idps: new IdpStore(k),
    lockout: new LockoutStore(k, config.security.lockout),
    codes: authz.codes,
    sessions: authz.sessions,
    consents: authz.consents,
    close: () => db.close(),
  };
}

export type { Client, Application, IssuedKeys } from './applications.js';
export type { Api, Subscription } from './apis.js';
export type { TokenRecord, RefreshRecord, IssuedTokens } from './tokens.js';
export type { KeyType } from '../types.js';
