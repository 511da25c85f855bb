import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import { ApiStore } from './apis.js';
import { ApplicationStore } from './applications.js';
import { AuditStore } from './audit.js';
import { authorizationStores } from './authorization.js';
import { ChangeStore } from './changes.js';
import type { CodeStore } from './codes.js';
import { migrate, openDatabase, type Db } from './db.js';
import { IdpStore } from './idps.js';
import { keysSecret } from '../cluster/signing-keys.js';
import { LockoutStore, lockoutKeys } from './lockout.js';
import { PortalSessionStore } from './portal-sessions.js';
import { SigningKeyStore } from './signing-keys.js';
import { LeaseStore } from './leases.js';
import type { Database } from './schema/index.js';
import type { ConsentStore, SessionStore } from './sessions.js';
import { TokenStore } from './tokens.js';
import { UserStore } from './users.js';

/** The stores the management service writes through, bound to one connection or transaction. */
export interface ManagedStores {
  users: UserStore;
  applications: ApplicationStore;
  apis: ApiStore;
  idps: IdpStore;
  audit: AuditStore;
  changes: ChangeStore;
  /** The cluster's JWT signing keys (rotations are management changes). */
  signingKeys: SigningKeyStore;
}

/** The data layer: one kysely database (SQLite or PostgreSQL) and a store per area. */
export interface Store extends ManagedStores {
  db: Db;
  tokens: TokenStore;
  lockout: LockoutStore;
  /** Authorization codes, browser sign-in sessions and remembered consents (authorization code grant). */
  codes: CodeStore;
  sessions: SessionStore;
  consents: ConsentStore;
  /** Developer portal sign-ins. */
  portalSessions: PortalSessionStore;
  /** Jobs one node at a time runs (the cleanup). */
  leases: LeaseStore;
  /** Runs `body` in one transaction, with the managed stores bound to it: all of it commits, or none. */
  transaction<T>(body: (stores: ManagedStores) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function managedStores(k: Kysely<Database>, dialect: Db['dialect']): ManagedStores {
  return {
    users: new UserStore(k),
    applications: new ApplicationStore(k),
    apis: new ApiStore(k, dialect),
    idps: new IdpStore(k),
    audit: new AuditStore(k),
    changes: new ChangeStore(k, dialect),
    signingKeys: new SigningKeyStore(k),
  };
}

export async function openStore(config: Pick<Config, 'dataDir' | 'database' | 'security' | 'keys'>): Promise<Store> {
  const db = await openDatabase(config);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  const k = db.kysely;
  const tokens = new TokenStore(k, db.dialect);
  const authz = authorizationStores(k, tokens);
  return {
    db,
    ...managedStores(k, db.dialect),
    tokens,
    lockout: new LockoutStore(k, config.security.lockout, lockoutKeys(() => keysSecret(config).kek)),
    codes: authz.codes,
    sessions: authz.sessions,
    consents: authz.consents,
    portalSessions: new PortalSessionStore(k),
    leases: new LeaseStore(k),
    transaction: (body) => k.transaction().execute((trx) => body(managedStores(trx, db.dialect))),
    close: () => db.close(),
  };
}

export type { Client, Application, ConsumerKey } from './applications.js';
export type { Api, Subscription, SubscriptionDetail } from './apis.js';
export type { TokenRecord, RefreshRecord, IssuedTokens } from './tokens.js';
export type { User, Role } from './users.js';
export type { IdentityProvider } from './idps.js';
export type { AuditEvent } from './audit.js';
export type { StorePage } from './page.js';
export type { KeyType } from '../types.js';
