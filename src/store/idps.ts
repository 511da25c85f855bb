import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Conflict } from '../errors.js';
import { isUniqueViolation } from './errors.js';
import { pageOf, type StorePage } from './page.js';
import { nowSeconds } from '../clock.js';
import type { Database } from './schema/index.js';

export interface IdentityProvider {
  /** The admin API's identifier. */
  id: string;
  issuer: string;
  /** WSO2's alias: one more accepted Audience (and Recipient); null: none. */
  alias: string | null;
  /** Accepted Audience URIs; none (and no alias): oauth.issuer and <issuer>/token (src/saml/audiences.ts). */
  audiences: string[];
  certificates: string[];
  createdAt: number;
}

type Row = Database['saml_idps'];

const fromRow = (r: Row): IdentityProvider => ({
  id: r.id,
  issuer: r.issuer,
  alias: r.alias,
  audiences: r.audiences === null ? [] : (JSON.parse(r.audiences) as string[]),
  certificates: JSON.parse(r.certificates) as string[],
  createdAt: Number(r.created_at),
});

/** Trusted SAML 2.0 identity providers and the replay cache of exchanged assertion IDs. */
export class IdpStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(idp: Omit<IdentityProvider, 'id' | 'createdAt'>): Promise<IdentityProvider> {
    const row: Row = {
      id: randomUUID(),
      issuer: idp.issuer,
      alias: idp.alias,
      audiences: idp.audiences.length === 0 ? null : JSON.stringify(idp.audiences),
      certificates: JSON.stringify(idp.certificates),
      created_at: nowSeconds(),
    };
    try {
      await this.db.insertInto('saml_idps').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`identity provider "${idp.issuer}" is already registered`, 'issuer');
      throw err;
    }
    return fromRow(row);
  }

  async find(issuer: string): Promise<IdentityProvider | undefined> {
    const r = await this.db.selectFrom('saml_idps').selectAll().where('issuer', '=', issuer).executeTakeFirst();
    return r && fromRow(r);
  }

  async findById(id: string): Promise<IdentityProvider | undefined> {
    const r = await this.db.selectFrom('saml_idps').selectAll().where('id', '=', id).executeTakeFirst();
    return r && fromRow(r);
  }

  /** One page, by issuer (the entity IDs are unique). */
  async list(opts: { after?: string; limit: number }): Promise<StorePage<IdentityProvider, string>> {
    let q = this.db.selectFrom('saml_idps').selectAll().orderBy('issuer').limit(opts.limit + 1);
    if (opts.after !== undefined) q = q.where('issuer', '>', opts.after);
    return pageOf((await q.execute()).map(fromRow), opts.limit, (i) => i.issuer);
  }

  async update(id: string, fields: Partial<Pick<IdentityProvider, 'alias' | 'audiences' | 'certificates'>>): Promise<void> {
    const set: Partial<Row> = {};
    if (fields.alias !== undefined) set.alias = fields.alias;
    if (fields.audiences !== undefined) set.audiences = fields.audiences.length === 0 ? null : JSON.stringify(fields.audiences);
    if (fields.certificates !== undefined) set.certificates = JSON.stringify(fields.certificates);
    if (Object.keys(set).length > 0) await this.db.updateTable('saml_idps').set(set).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('saml_idps').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /**
   * Records an assertion ID as used until it expires. False when it was already recorded:
   * the primary key decides, so two nodes sharing the database cannot both accept it.
   */
  async recordAssertion(issuer: string, assertionId: string, notOnOrAfter: number): Promise<boolean> {
    try {
      await this.db.insertInto('saml_assertions').values({ issuer, assertion_id: assertionId, not_on_or_after: notOnOrAfter }).execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async deleteExpiredAssertions(now: number, batchSize: number): Promise<number> {
    const res = await this.db
      .deleteFrom('saml_assertions')
      .where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('issuer', 'assertion_id'),
          'in',
          selectFrom('saml_assertions').select(['issuer', 'assertion_id']).where('not_on_or_after', '<', now).limit(batchSize).$asTuple('issuer', 'assertion_id'),
        ),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
