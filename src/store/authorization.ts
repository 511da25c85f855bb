import type { Kysely } from 'kysely';
import { CodeStore } from './codes.js';
import type { Database } from './schema.js';
import { ConsentStore, SessionStore } from './sessions.js';
import type { TokenStore } from './tokens.js';

type Remover = (now: number, batchSize: number) => Promise<number>;

/** Runs a batch remover until a short batch (at most `maxBatches`), yielding between batches. */
export function inBatches(remove: Remover, maxBatches = 50): Remover {
  return async (now, batchSize) => {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await remove(now, batchSize);
      total += n;
      if (n < batchSize) break;
      await new Promise((r) => setImmediate(r));
    }
    return total;
  };
}

/** The authorization code grant's stores and their expired-row removers for the periodic cleanup. */
export function authorizationStores(db: Kysely<Database>, tokens: TokenStore) {
  const codes = new CodeStore(db, tokens);
  const sessions = new SessionStore(db);
  const consents = new ConsentStore(db);
  const expiring: Record<string, Remover> = {
    authorization_codes: inBatches((now, n) => codes.deleteExpiredBatch(now, n)),
    authorization_requests: inBatches((now, n) => sessions.deleteExpiredRequests(now, n)),
    login_sessions: inBatches((now, n) => sessions.deleteExpiredSessions(now, n)),
  };
  return { codes, sessions, consents, expiring };
}
