import { sql, type Kysely, type Transaction } from 'kysely';
import type { KeyType } from '../types.js';
import { DatabaseBusy, DatabaseUnavailable } from './availability.js';
import type { Dialect } from './db.js';
import type { AccessTokensTable, Database, RefreshTokensTable } from './schema/index.js';
import { compile, type CompiledStatement } from './compiled.js';
import { pageOf, type StorePage } from './page.js';
import { decodeScope, encodeScope } from './scope-column.js';

/** One issued token as stored: the token itself is never stored, only its SHA-256. */
export interface TokenRecord {
  tokenHash: string;
  grantId: string;
  consumerKey: string;
  applicationId: string;
  subject: string;
  username: string | null;
  scope: string[];
  keyType: KeyType;
  grantType: string;
  idp: string | null;
  issuedAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface RefreshRecord extends TokenRecord {
  consumedAt: number | null;
}

/** What one grant step persists: an access token and, for most grants, its refresh token. */
export interface IssuedTokens {
  access: TokenRecord;
  refresh?: TokenRecord;
}

export type RotationOutcome =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }
  | { ok: false; reason: 'consumed'; consumedAt: number };

/** Whose tokens a bulk revocation is about (see {@link TokenStore.grantIdsOf}). */
export type TokenOwner = { consumerKeys: string[] } | { username: string } | { idp: string };

/**
 * A grant as revocation names it: its id and the consumer key it was issued with. Tokens are
 * found by the (consumer_key, grant_id) index the owner revocations need anyway, so no index
 * on grant_id alone is kept up on every insert.
 */
export interface GrantRef {
  id: string;
  consumerKey: string;
}

/** Grants revoked per transaction by a bulk revocation: each batch is short, so issuance interleaves. */
const REVOKE_BATCH = 500;

/** The columns of a stored token, and a record's values for them in that order (the compiled inserts' rows). */
const TOKEN_COLUMNS = ['token_hash', 'grant_id', 'consumer_key', 'application_id', 'subject', 'username', 'scope', 'key_type', 'grant_type', 'idp', 'issued_at', 'expires_at', 'revoked_at'] as const;
const rowValues = (t: TokenRecord): unknown[] => [
  t.tokenHash, t.grantId, t.consumerKey, t.applicationId, t.subject, t.username, encodeScope(t.scope),
  t.keyType, t.grantType, t.idp, t.issuedAt, t.expiresAt, t.revokedAt,
];

/** The largest multi-row INSERT, kept compiled (a power of two; see TokenStore.insertRows; 13 columns × 64 rows stays far under SQLite's and PostgreSQL's parameter limits). */
const COMPILED_BATCH_ROWS = 64;

const fromRow = (r: AccessTokensTable): TokenRecord => ({
  tokenHash: r.token_hash,
  grantId: r.grant_id,
  consumerKey: r.consumer_key,
  applicationId: r.application_id,
  subject: r.subject,
  username: r.username,
  scope: decodeScope(r.scope),
  keyType: r.key_type,
  grantType: r.grant_type,
  idp: r.idp,
  issuedAt: Number(r.issued_at),
  expiresAt: Number(r.expires_at),
  revokedAt: r.revoked_at == null ? null : Number(r.revoked_at),
});

const fromRefreshRow = (r: RefreshTokensTable): RefreshRecord => ({
  ...fromRow(r),
  consumedAt: r.consumed_at == null ? null : Number(r.consumed_at),
});

interface PendingIssue extends IssuedTokens {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** How long an unused grant lock row is kept (see {@link TokenStore.deleteIdleGrants}). */
export const GRANT_LOCK_RETENTION = 86400;

export class TokenStore {
  /** The hot paths' queries, compiled once (src/store/compiled.ts). */
  private readonly q;
  /** Multi-row INSERTs by table and row count (powers of two up to COMPILED_BATCH_ROWS). */
  private readonly inserts = new Map<string, CompiledStatement<unknown>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {
    this.q = {
      findAccess: compile<AccessTokensTable>((p) => db.selectFrom('access_tokens').selectAll().where('token_hash', '=', p(0))),
      findRefresh: compile<RefreshTokensTable>((p) => db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', p(0))),
      findLiveAccessWithApplication: compile<AccessTokensTable & { application_name: string; application_tier: string; owner: string }>((p) =>
        db
          .selectFrom('access_tokens as t')
          .innerJoin('applications as a', 'a.id', 't.application_id')
          .innerJoin('users as u', 'u.id', 'a.owner_id')
          .selectAll('t')
          .select(['a.name as application_name', 'a.tier as application_tier', 'u.username as owner'])
          .where('t.token_hash', '=', p(0))
          .where('t.revoked_at', 'is', null)
          .where('t.expires_at', '>', p(1)),
      ),
      /**
       * Takes a grant's lock for the rest of the transaction (an upsert of its `grants` row, created
       * on first use, so issuing tokens writes nothing there). No row: the grant is revoked, and
       * nothing may be added to it. Whoever adds tokens to an existing grant takes this lock first,
       * like {@link TokenStore.revokeGrants}: one lock order, grant before tokens, so no deadlock.
       */
      lockGrant: compile<{ id: string }>((p) =>
        db
          .insertInto('grants')
          .values({ id: p(0), revoked_at: null, updated_at: p(1) })
          .onConflict((oc) => oc.column('id').doUpdateSet({ updated_at: p(1) }).where('grants.revoked_at', 'is', null))
          .returning('id'),
      ),
      revokeAccess: compile((p) => db.updateTable('access_tokens').set({ revoked_at: p(0) }).where('token_hash', '=', p(1)).where('revoked_at', 'is', null)),
      consumeRefresh: compile((p) =>
        db
          .updateTable('refresh_tokens')
          .set({ consumed_at: p(0) })
          .where('token_hash', '=', p(1))
          .where('consumed_at', 'is', null)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', p(2)),
      ),
    };
  }

  /**
   * INSERTs `rows` into `table` as compiled multi-row statements of 64, 32, …, 2 or 1 rows (50
   * rows: 32 + 16 + 2), so a handful of statements per table serve every batch size and what
   * they hold stays small.
   */
  private async insertRows(db: Kysely<Database> | Transaction<Database>, table: 'access_tokens' | 'refresh_tokens', rows: TokenRecord[]): Promise<void> {
    for (let i = 0; i < rows.length; ) {
      let n = COMPILED_BATCH_ROWS;
      while (n > rows.length - i) n >>= 1;
      await this.insertStatement(table, n).run(db, rows.slice(i, i + n).flatMap(rowValues));
      i += n;
    }
  }

  private insertStatement(table: 'access_tokens' | 'refresh_tokens', n: number): CompiledStatement<unknown> {
    const key = `${table} ${n}`;
    let stmt = this.inserts.get(key);
    if (stmt === undefined) {
      // A new refresh token is unconsumed: consumed_at is a constant of the query.
      const extra = table === 'refresh_tokens' ? { consumed_at: null } : {};
      const width = TOKEN_COLUMNS.length;
      stmt = compile((p) =>
        this.db.insertInto(table).values(
          Array.from({ length: n }, (_, i) => ({ ...Object.fromEntries(TOKEN_COLUMNS.map((c, j) => [c, p(i * width + j)])), ...extra }) as AccessTokensTable),
        ),
      );
      this.inserts.set(key, stmt);
    }
    return stmt;
  }

  /** Inserts a token pair; pass a transaction to store it atomically with other writes (code consumption). */
  async insert(db: Kysely<Database> | Transaction<Database>, { access, refresh }: IssuedTokens): Promise<void> {
    await this.insertRows(db, 'access_tokens', [access]);
    if (refresh) await this.insertRows(db, 'refresh_tokens', [refresh]);
  }

  /**
   * Stores the first tokens of a new grant. Group commit: the tokens of the requests that
   * arrive in one event-loop turn (and while a batch is being written) go into one
   * transaction of multi-row INSERTs, so a busy node pays one commit for many tokens. Each
   * caller resumes only once its own rows are committed.
   */
  create(tokens: IssuedTokens): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ access: tokens.access, refresh: tokens.refresh, resolve, reject });
      this.scheduleFlush();
    });
  }

  private pending: PendingIssue[] = [];
  private flushing = false;
  private flushScheduled = false;

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        await this.insertRows(trx, 'access_tokens', batch.map((p) => p.access));
        await this.insertRows(trx, 'refresh_tokens', batch.flatMap((p) => (p.refresh ? [p.refresh] : [])));
      });
      for (const p of batch) p.resolve();
    } catch (err) {
      // One failure for all when the database is unreachable or locked by another process: no row-by-row retry against it, and
      // the requests that queued behind this flush fail with it instead of waiting for another.
      if (err instanceof DatabaseUnavailable || err instanceof DatabaseBusy) {
        const queued = this.pending;
        this.pending = [];
        for (const p of [...batch, ...queued]) p.reject(err);
      } else if (batch.length === 1) batch[0]!.reject(err);
      else {
        // One bad row must not fail its neighbours: each on its own, so only it sees the error.
        await Promise.all(
          batch.map((p) =>
            (p.refresh ? this.db.transaction().execute((trx) => this.insert(trx, p)) : this.insert(this.db, p)).then(p.resolve, p.reject),
          ),
        );
      }
    } finally {
      this.flushing = false;
      this.scheduleFlush();
    }
  }

  /**
   * Consumes a refresh token and stores its successors (built by the caller from the token it
   * read) in one transaction. The conditional UPDATE is the arbiter: of any number of
   * concurrent presentations, exactly one sees the row unconsumed; the others get why not.
   *
   * The transaction first takes the grant's lock (`lockGrant`), the same lock a
   * revocation of the grant takes first: a rotation and a revocation of one grant never
   * interleave. Without it, on PostgreSQL (READ COMMITTED) a revocation waiting on the
   * refresh row would not see the successors the rotation inserted and leave them live.
   */
  async rotate(presented: RefreshRecord, now: number, successors: Required<IssuedTokens>): Promise<RotationOutcome> {
    const won = await this.db.transaction().execute(async (trx) => {
      if ((await this.q.lockGrant.run(trx, [presented.grantId, now])).rows.length === 0) return 'revoked' as const;
      const res = await this.q.consumeRefresh.run(trx, [now, presented.tokenHash, now]);
      if (Number(res.numAffectedRows ?? 0) === 0) return false;
      await this.insert(trx, successors);
      return true;
    });
    if (won === true) return { ok: true };
    if (won === 'revoked') return { ok: false, reason: 'revoked' };
    const current = await this.findRefresh(presented.tokenHash);
    if (!current) return { ok: false, reason: 'unknown' };
    if (current.revokedAt !== null) return { ok: false, reason: 'revoked' };
    if (current.consumedAt !== null) return { ok: false, reason: 'consumed', consumedAt: current.consumedAt };
    return { ok: false, reason: 'expired' };
  }

  async findAccess(tokenHash: string): Promise<TokenRecord | undefined> {
    const row = (await this.q.findAccess.run(this.db, [tokenHash])).rows[0];
    return row && fromRow(row);
  }

  async findRefresh(tokenHash: string): Promise<RefreshRecord | undefined> {
    const row = (await this.q.findRefresh.run(this.db, [tokenHash])).rows[0];
    return row && fromRefreshRow(row);
  }

  /**
   * A live access token with its application and owner, in one query: what the gateway
   * needs to authorize a call. Unknown, revoked and expired tokens give undefined.
   */
  async findLiveAccessWithApplication(tokenHash: string, now: number): Promise<(TokenRecord & { applicationName: string; applicationTier: string; owner: string }) | undefined> {
    const row = (await this.q.findLiveAccessWithApplication.run(this.db, [tokenHash, now])).rows[0];
    return row && { ...fromRow(row), applicationName: row.application_name, applicationTier: row.application_tier, owner: row.owner };
  }

  /** Live access tokens issued with these consumer keys, newest first (metadata for an admin; the token is never stored). */
  async listLive(consumerKeys: string[], now: number, opts: { after?: { issuedAt: number; key: string }; limit: number }): Promise<StorePage<TokenRecord, { issuedAt: number; key: string }>> {
    if (consumerKeys.length === 0) return { items: [], next: undefined };
    let q = this.db
      .selectFrom('access_tokens')
      .selectAll()
      .where('consumer_key', 'in', consumerKeys)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('issued_at', 'desc')
      .orderBy('token_hash')
      .limit(opts.limit + 1);
    const after = opts.after;
    if (after !== undefined) q = q.where((eb) => eb.or([eb('issued_at', '<', after.issuedAt), eb.and([eb('issued_at', '=', after.issuedAt), eb('token_hash', '>', after.key)])]));
    return pageOf((await q.execute()).map(fromRow), opts.limit, (t) => ({ issuedAt: t.issuedAt, key: t.tokenHash }));
  }

  /** Revokes one access token; true when it was live. */
  async revokeAccess(tokenHash: string, now: number): Promise<boolean> {
    const res = await this.q.revokeAccess.run(this.db, [now, tokenHash]);
    return Number(res.numAffectedRows ?? 0) > 0;
  }

  /**
   * Revokes every access and refresh token of these grants (their whole lineages), in one
   * transaction. The grants' locks come first, in id order (one lock order for everyone, so
   * concurrent revocations never deadlock): a rotation of one of them in flight commits first,
   * and the token updates after it (new statements) see its successors and revoke them too; a
   * rotation that comes later finds the grant revoked.
   */
  async revokeGrants(grants: readonly GrantRef[], now: number): Promise<number> {
    if (grants.length === 0) return 0;
    const ids = [...new Set(grants.map((g) => g.id))].sort();
    const keys = [...new Set(grants.map((g) => g.consumerKey))];
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('grants')
        .values(ids.map((id) => ({ id, revoked_at: now, updated_at: now })))
        .onConflict((oc) => oc.column('id').doUpdateSet({ revoked_at: sql<number>`coalesce(grants.revoked_at, excluded.revoked_at)`, updated_at: now }))
        .execute();
      // A grant has one consumer key, so "its key among these and its id among these" is exactly its tokens.
      const refresh = await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('consumer_key', 'in', keys).where('grant_id', 'in', ids).where('revoked_at', 'is', null).where('expires_at', '>', now).returning(['grant_id', 'expires_at']).execute();
      const access = await trx.updateTable('access_tokens').set({ revoked_at: now }).where('consumer_key', 'in', keys).where('grant_id', 'in', ids).where('revoked_at', 'is', null).where('expires_at', '>', now).returning(['grant_id', 'expires_at']).execute();
      // Only live tokens (an expired one is dead already, and the cleanup may be deleting it: an
      // update would move it from under the cleanup's ctid). What was revoked: grants that had one.
      return new Set([...refresh, ...access].map((t) => t.grant_id)).size;
    });
  }

  /**
   * Revokes every grant that has a token of this owner (issued with these consumer keys, to
   * this local user, or from this identity provider), a batch of grants per transaction.
   * Returns how many grants were actually revoked (had a live token until now).
   */
  async revokeTokensOf(owner: TokenOwner, now: number): Promise<number> {
    let after = '';
    let total = 0;
    for (;;) {
      const page = await this.grantsOf(owner, after, REVOKE_BATCH);
      if (page.length === 0) return total;
      total += await this.revokeGrants(page, now);
      if (page.length < REVOKE_BATCH) return total;
      after = page[page.length - 1]!.id;
    }
  }

  /** One page (in grant id order, after `after`) of the grants that have a token of this owner. */
  private async grantsOf(owner: TokenOwner, after: string, limit: number): Promise<GrantRef[]> {
    const page = async (table: 'access_tokens' | 'refresh_tokens'): Promise<GrantRef[]> => {
      let q = this.db.selectFrom(table).select(['grant_id', 'consumer_key']).where('grant_id', '>', after);
      if ('consumerKeys' in owner) {
        if (owner.consumerKeys.length === 0) return [];
        q = q.where('consumer_key', 'in', owner.consumerKeys);
      } else if ('username' in owner) q = q.where('username', '=', owner.username);
      else q = q.where('idp', '=', owner.idp);
      const rows = await q.groupBy(['grant_id', 'consumer_key']).orderBy('grant_id').limit(limit).execute();
      return rows.map((r) => ({ id: r.grant_id, consumerKey: r.consumer_key }));
    };
    const byId = new Map<string, GrantRef>();
    for (const g of [...(await page('access_tokens')), ...(await page('refresh_tokens'))]) byId.set(g.id, g);
    return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit);
  }

  /**
   * Deletes at most `batchSize` grant lock rows nobody has used for `idleSeconds`. Safe at any
   * age: the row only orders transactions running at the same time (a later one recreates it),
   * and a revocation also marks every token of the grant, so no token comes back to life.
   */
  async deleteIdleGrants(now: number, batchSize: number, idleSeconds = GRANT_LOCK_RETENTION): Promise<number> {
    const victims = this.db.selectFrom('grants').select('id').where('updated_at', '<', now - idleSeconds).limit(batchSize);
    const res = await this.db.deleteFrom('grants').where('id', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /**
   * Deletes at most `batchSize` expired rows from one table; returns how many went.
   * Refresh tokens stay until their own expiry even once rotated, so reuse is still detected.
   */
  async deleteExpiredBatch(table: 'access_tokens' | 'refresh_tokens', now: number, batchSize: number): Promise<number> {
    // By the row's physical address (SQLite's rowid, PostgreSQL's ctid), which the expiry index
    // hands over, not by token_hash: no primary-key lookup per row (a batch cost 30 % less CPU per
    // row on SQLite, a third of the time on PostgreSQL). Nothing updates an expired row (revocation
    // takes live ones only); one updated meanwhile would have moved on PostgreSQL and be left for
    // the next pass (a TID scan rechecks the address of the row's new version).
    const t = sql.table(table);
    const res =
      this.dialect === 'postgres'
        ? await sql`DELETE FROM ${t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${t} WHERE expires_at <= ${now} LIMIT ${batchSize}))`.execute(this.db)
        : await sql`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE expires_at <= ${now} LIMIT ${batchSize})`.execute(this.db);
    return Number(res.numAffectedRows ?? 0n);
  }
}
