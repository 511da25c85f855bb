import type { Kysely } from 'kysely';
import type { AuthorizationCodesTable, Database } from './schema/index.js';
import { compile } from './compiled.js';
import { decodeScope, encodeScope } from './scope-column.js';
import type { IssuedTokens, TokenStore } from './tokens.js';

/** An authorization code as stored (the code itself never is, only its SHA-256). */
export interface CodeRecord {
  codeHash: string;
  grantId: string;
  consumerKey: string;
  applicationId: string;
  redirectUri: string;
  /** Whether redirect_uri was in the authorization request (then /token must repeat it). */
  redirectUriSent: boolean;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  subject: string;
  username: string | null;
  scope: string[];
  issuedAt: number;
  expiresAt: number;
  consumedAt: number | null;
  /**
   * The code was issued for a local user who is now locked or gone: it must not be exchanged
   * (read with the code, so the check costs no round trip).
   */
  userBarred: boolean;
}

export type ExchangeOutcome = { ok: true } | { ok: false; reason: 'unknown' | 'expired' | 'consumed' };

/** Consumed codes are kept this long past their expiry, so a late replay still revokes its tokens. */
export const CONSUMED_CODE_RETENTION = 86400;

type CodeRow = AuthorizationCodesTable & { user_id: string | null; user_locked_at: number | string | null };

const fromRow = (r: CodeRow): CodeRecord => ({
  codeHash: r.code_hash,
  grantId: r.grant_id,
  consumerKey: r.consumer_key,
  applicationId: r.application_id,
  redirectUri: r.redirect_uri,
  redirectUriSent: Number(r.redirect_uri_sent) === 1,
  codeChallenge: r.code_challenge,
  codeChallengeMethod: r.code_challenge_method,
  subject: r.subject,
  username: r.username,
  scope: decodeScope(r.scope),
  issuedAt: Number(r.issued_at),
  expiresAt: Number(r.expires_at),
  consumedAt: r.consumed_at == null ? null : Number(r.consumed_at),
  userBarred: r.username !== null && (r.user_id === null || r.user_locked_at !== null),
});

export class CodeStore {
  /** The exchange's queries, compiled once (src/store/compiled.ts). */
  private readonly q = {
    find: compile<CodeRow>((p) =>
      this.db
        .selectFrom('authorization_codes as c')
        .leftJoin('users as u', 'u.username', 'c.username')
        .selectAll('c')
        .select(['u.id as user_id', 'u.locked_at as user_locked_at'])
        .where('c.code_hash', '=', p(0)),
    ),
    consume: compile((p) =>
      this.db.updateTable('authorization_codes').set({ consumed_at: p(0) }).where('code_hash', '=', p(1)).where('consumed_at', 'is', null).where('expires_at', '>', p(2)),
    ),
  };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly tokens: Pick<TokenStore, 'insert'>,
  ) {}

  async create(code: Omit<CodeRecord, 'consumedAt' | 'userBarred'>): Promise<void> {
    await this.db
      .insertInto('authorization_codes')
      .values({
        code_hash: code.codeHash,
        grant_id: code.grantId,
        consumer_key: code.consumerKey,
        application_id: code.applicationId,
        redirect_uri: code.redirectUri,
        redirect_uri_sent: code.redirectUriSent ? 1 : 0,
        code_challenge: code.codeChallenge,
        code_challenge_method: code.codeChallengeMethod,
        subject: code.subject,
        username: code.username,
        scope: encodeScope(code.scope),
        issued_at: code.issuedAt,
        expires_at: code.expiresAt,
        consumed_at: null,
      })
      .execute();
  }

  async find(codeHash: string): Promise<CodeRecord | undefined> {
    const row = (await this.q.find.run(this.db, [codeHash])).rows[0];
    return row && fromRow(row);
  }

  /**
   * Consumes a code and stores the tokens issued for it (built by the caller from the code it
   * read) in one transaction. The conditional UPDATE is the arbiter: of any number of
   * concurrent exchanges exactly one sees the code unconsumed; the tokens are committed with
   * the consumption, so whoever sees the code consumed afterwards can revoke them.
   *
   * No grant lock (TokenStore's `lockGrant`) is needed here: these are the grant's first tokens, and
   * every revocation of it starts from something that exists only once this transaction has
   * committed (the consumed code, whose row lock a concurrent replay waits on, or one of these
   * tokens), so no revocation can run concurrently and miss them.
   */
  async exchange(codeHash: string, now: number, tokens: IssuedTokens): Promise<ExchangeOutcome> {
    const won = await this.db.transaction().execute(async (trx) => {
      const res = await this.q.consume.run(trx, [now, codeHash, now]);
      if (Number(res.numAffectedRows ?? 0) === 0) return false;
      await this.tokens.insert(trx, tokens);
      return true;
    });
    if (won) return { ok: true };
    const current = await this.find(codeHash);
    if (!current) return { ok: false, reason: 'unknown' };
    return { ok: false, reason: current.consumedAt !== null ? 'consumed' : 'expired' };
  }

  /** Deletes a batch of dead codes: unused ones once expired, consumed ones after the retention. */
  async deleteExpiredBatch(now: number, batchSize: number): Promise<number> {
    const victims = this.db
      .selectFrom('authorization_codes')
      .select('code_hash')
      .where((eb) =>
        eb.or([eb.and([eb('consumed_at', 'is', null), eb('expires_at', '<=', now)]), eb('expires_at', '<=', now - CONSUMED_CODE_RETENTION)]),
      )
      .limit(batchSize);
    const res = await this.db.deleteFrom('authorization_codes').where('code_hash', 'in', victims).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
