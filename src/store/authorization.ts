import type { Kysely } from 'kysely';
import { CodeStore } from './codes.js';
import type { Database } from './schema/index.js';
import { ConsentStore, SessionStore } from './sessions.js';
import type { TokenStore } from './tokens.js';

/** The authorization code grant's stores. */
export function authorizationStores(db: Kysely<Database>, tokens: TokenStore) {
  return { codes: new CodeStore(db, tokens), sessions: new SessionStore(db), consents: new ConsentStore(db) };
}
