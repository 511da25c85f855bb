import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableKinds, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { tokenRecord } from '../../test/support/token-record.js';
import { loadConfig } from '../config/load.js';
import { compile } from './compiled.js';
import { openStore, type Store, type TokenRecord } from './index.js';

const kinds = await availableKinds();

describe.each(kinds)('compiled queries on %s', (kind) => {
  let tdb: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    tdb = await createTestDatabase(kind);
    store = await openStore(loadConfig({}, {}, { dataDir: tdb.dataDir, database: tdb.database }));
  });
  afterAll(async () => {
    await store?.close();
    await tdb?.drop();
  });

  const token = (over: Partial<TokenRecord> = {}): TokenRecord =>
    tokenRecord({ consumerKey: 'ck-compiled', username: null, scope: ['default', 'read'], keyType: 'SANDBOX', grantType: 'client_credentials', ...over });

  it('runs one compiled query with new values each time, keeping the constants written into it', async () => {
    const db = store.db.kysely;
    const a = token({ subject: 'ann', expiresAt: 5000 });
    const b = token({ subject: 'bob', expiresAt: 9000 });
    await store.tokens.create({ access: a });
    await store.tokens.create({ access: b });
    const q = compile<{ subject: string }>((p) =>
      db.selectFrom('access_tokens').select('subject').where('consumer_key', '=', 'ck-compiled').where('expires_at', '>', p(1)).where('token_hash', 'in', [p(0), p(2)]).orderBy('subject'),
    );
    expect((await q.run(db, [a.tokenHash, 0, b.tokenHash])).rows.map((r) => r.subject)).toEqual(['ann', 'bob']);
    expect((await q.run(db, [a.tokenHash, 6000, b.tokenHash])).rows.map((r) => r.subject)).toEqual(['bob']);
    expect((await q.run(db, ['nothing', 0, 'none'])).rows).toEqual([]);
    await expect(q.run(db, [a.tokenHash])).rejects.toThrow('compiled query takes 3 values, got 1');
    // A value that does not become a parameter (here: never placed) is refused, not ignored.
    const gap = compile<{ subject: string }>((p) => db.selectFrom('access_tokens').select('subject').where('token_hash', '=', p(1)));
    await expect(gap.run(db, ['unused', a.tokenHash])).rejects.toThrow('compiled query: value 0 is not a parameter');
  });

  it('stores every token of a burst of issuances, written as compiled INSERTs of 64, 32, …, 1 rows', async () => {
    // 150 in one event-loop turn: 64 + 64 + 16 + 4 + 2 rows; every column with a value of its own.
    const distinct = (i: number, kind: string) => ({ subject: `${kind}${i}`, username: `user${i}`, idp: `idp${i}`, revokedAt: 3000 + i, issuedAt: 1000 + i, scope: [`s${i}`, 'read'], grantType: `grant${i}` });
    const burst = Array.from({ length: 150 }, (_, i) => ({ access: token(distinct(i, 'a')), ...(i % 3 === 0 ? { refresh: token(distinct(i, 'r')) } : {}) }));
    await Promise.all(burst.map((t) => store.tokens.create(t)));
    for (const t of burst) {
      expect(await store.tokens.findAccess(t.access.tokenHash)).toEqual(t.access);
      if (t.refresh) expect(await store.tokens.findRefresh(t.refresh.tokenHash)).toEqual({ ...t.refresh, consumedAt: null });
    }
    expect(burst.filter((t) => t.refresh).length).toBe(50);
  });
});
