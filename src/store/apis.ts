import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { nowSeconds } from '../clock.js';
import { Conflict } from '../errors.js';
import type { ApiDefinition } from '../types.js';
import { isUniqueViolation } from './errors.js';
import { pageOf, type StorePage } from './page.js';
import type { ApisTable, ApiStatus, Database, SubscriptionsTable, SubscriptionStatus } from './schema/index.js';

/** An API with its life-cycle status (CREATED, PUBLISHED, RETIRED). */
export interface Api extends ApiDefinition {
  status: ApiStatus;
  description: string | null;
  createdAt: number;
}

export type ApiFields = Partial<Omit<Api, 'id' | 'createdAt' | 'sandboxUrl' | 'timeoutMs'>> & {
  /** null removes it */
  sandboxUrl?: string | null;
  /** null: the gateway's default */
  timeoutMs?: number | null;
};

export interface Subscription {
  id: string;
  applicationId: string;
  apiId: string;
  tier: string;
  status: SubscriptionStatus;
  createdAt: number;
}

/** A subscription with the names an interface shows next to it. */
export interface SubscriptionDetail extends Subscription {
  applicationName: string;
  owner: string;
  apiName: string;
  apiVersion: string;
}

const fromRow = (r: ApisTable): Api => ({
  id: r.id,
  name: r.name,
  context: r.context,
  version: r.version,
  productionUrl: r.production_url,
  ...(r.sandbox_url ? { sandboxUrl: r.sandbox_url } : {}),
  tiers: JSON.parse(r.tiers) as string[],
  status: r.status,
  ...(r.timeout_ms != null ? { timeoutMs: r.timeout_ms } : {}),
  sendJwt: Boolean(r.send_jwt),
  description: r.description,
  createdAt: Number(r.created_at),
});

const subFromRow = (r: SubscriptionsTable): Subscription => ({
  id: r.id,
  applicationId: r.application_id,
  apiId: r.api_id,
  tier: r.tier,
  status: r.status,
  createdAt: Number(r.created_at),
});

const duplicateApi = (a: { context?: string; name?: string; version?: string }) =>
  new Conflict(`an API with context ${a.context ?? '(this)'} or name ${a.name ?? '(this)'}, version ${a.version ?? '(this)'} already exists`);

type SubCursor = { createdAt: number; id: string };

/** APIs (Publisher) and subscriptions of applications to them (Store). */
export class ApiStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  /**
   * Inside a transaction, before a check of the APIs' routes followed by a write: makes every
   * other such check wait until this transaction ends, so two overlapping APIs created at once
   * cannot both pass. PostgreSQL: a transaction-scoped advisory lock. SQLite: a write that
   * changes nothing takes the database's write lock now (a transaction begins deferred; another
   * process's API could otherwise commit between this one's read and its write).
   */
  async lockRoutes(): Promise<void> {
    if (this.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext(current_schema() || ':gatehouse.api-routes'))`.execute(this.db);
    } else {
      await this.db.updateTable('apis').set({ id: sql<string>`id` }).where(sql<boolean>`1 = 0`).execute();
    }
  }

  /** Every API whose context starts with the segment `first` ('/weather'): the only ones a route under it can overlap. */
  async underFirstSegment(first: string): Promise<{ id: string; name: string; context: string; version: string }[]> {
    const under = `${first}/`;
    return this.db
      .selectFrom('apis')
      .select(['id', 'name', 'context', 'version'])
      .where((eb) => eb.or([eb('context', '=', first), eb(sql<string>`substr(context, 1, ${sql.lit(under.length)})`, '=', under)]))
      .orderBy('name')
      .orderBy('version')
      .execute();
  }

  async create(input: Omit<Api, 'id' | 'createdAt'>): Promise<Api> {
    const api: Api = { ...input, id: randomUUID(), createdAt: nowSeconds() };
    try {
      await this.db
        .insertInto('apis')
        .values({
          id: api.id,
          name: api.name,
          context: api.context,
          version: api.version,
          production_url: api.productionUrl,
          sandbox_url: api.sandboxUrl ?? null,
          tiers: JSON.stringify(api.tiers),
          status: api.status,
          timeout_ms: api.timeoutMs ?? null,
          send_jwt: api.sendJwt ? 1 : 0,
          description: api.description,
          created_at: api.createdAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicateApi(api);
      throw err;
    }
    return api;
  }

  async findById(id: string): Promise<Api | undefined> {
    const row = await this.db.selectFrom('apis').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  async find(name: string, version: string): Promise<Api | undefined> {
    const row = await this.db.selectFrom('apis').selectAll().where('name', '=', name).where('version', '=', version).executeTakeFirst();
    return row && fromRow(row);
  }

  async findByContext(context: string, version: string): Promise<Api | undefined> {
    const row = await this.db.selectFrom('apis').selectAll().where('context', '=', context).where('version', '=', version).executeTakeFirst();
    return row && fromRow(row);
  }

  /** APIs (of one status, or all) in name and version order, after `after`. */
  async list(opts: { status?: ApiStatus; after?: { name: string; version: string }; limit: number }): Promise<StorePage<Api, { name: string; version: string }>> {
    let q = this.db.selectFrom('apis').selectAll().orderBy('name').orderBy('version').limit(opts.limit + 1);
    if (opts.status !== undefined) q = q.where('status', '=', opts.status);
    const after = opts.after;
    if (after !== undefined) q = q.where((eb) => eb.or([eb('name', '>', after.name), eb.and([eb('name', '=', after.name), eb('version', '>', after.version)])]));
    return pageOf((await q.execute()).map(fromRow), opts.limit, (a) => ({ name: a.name, version: a.version }));
  }

  async update(id: string, fields: ApiFields): Promise<void> {
    const set: Partial<ApisTable> = {};
    if (fields.name !== undefined) set.name = fields.name;
    if (fields.context !== undefined) set.context = fields.context;
    if (fields.version !== undefined) set.version = fields.version;
    if (fields.productionUrl !== undefined) set.production_url = fields.productionUrl;
    if (fields.sandboxUrl !== undefined) set.sandbox_url = fields.sandboxUrl;
    if (fields.tiers !== undefined) set.tiers = JSON.stringify(fields.tiers);
    if (fields.status !== undefined) set.status = fields.status;
    if (fields.timeoutMs !== undefined) set.timeout_ms = fields.timeoutMs;
    if (fields.sendJwt !== undefined) set.send_jwt = fields.sendJwt ? 1 : 0;
    if (fields.description !== undefined) set.description = fields.description;
    if (Object.keys(set).length === 0) return;
    try {
      await this.db.updateTable('apis').set(set).where('id', '=', id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicateApi(fields);
      throw err;
    }
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('apis').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // ---------------------------------------------------------------- subscriptions

  async subscribe(applicationId: string, apiId: string, tier: string): Promise<Subscription> {
    const sub: Subscription = { id: randomUUID(), applicationId, apiId, tier, status: 'ACTIVE', createdAt: nowSeconds() };
    try {
      await this.db
        .insertInto('subscriptions')
        .values({ id: sub.id, application_id: applicationId, api_id: apiId, tier, status: 'ACTIVE', created_at: sub.createdAt })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict('the application is already subscribed to this API');
      throw err;
    }
    return sub;
  }

  async findSubscription(applicationId: string, apiId: string): Promise<Subscription | undefined> {
    const r = await this.db.selectFrom('subscriptions').selectAll().where('application_id', '=', applicationId).where('api_id', '=', apiId).executeTakeFirst();
    return r && subFromRow(r);
  }

  async findSubscriptionById(id: string): Promise<Subscription | undefined> {
    const r = await this.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    return r && subFromRow(r);
  }

  /** Subscriptions of an application, of an API, or of a user's applications, oldest first. */
  async listSubscriptions(opts: { applicationId?: string; apiId?: string; owner?: string; after?: SubCursor; limit: number }): Promise<StorePage<SubscriptionDetail, SubCursor>> {
    let q = this.db
      .selectFrom('subscriptions as s')
      .innerJoin('applications as a', 'a.id', 's.application_id')
      .innerJoin('users as u', 'u.id', 'a.owner_id')
      .innerJoin('apis as p', 'p.id', 's.api_id')
      .selectAll('s')
      .select(['a.name as application_name', 'u.username as owner', 'p.name as api_name', 'p.version as api_version'])
      .orderBy('s.created_at')
      .orderBy('s.id')
      .limit(opts.limit + 1);
    if (opts.applicationId !== undefined) q = q.where('s.application_id', '=', opts.applicationId);
    if (opts.apiId !== undefined) q = q.where('s.api_id', '=', opts.apiId);
    if (opts.owner !== undefined) q = q.where('u.username', '=', opts.owner);
    const after = opts.after;
    if (after !== undefined) q = q.where((eb) => eb.or([eb('s.created_at', '>', after.createdAt), eb.and([eb('s.created_at', '=', after.createdAt), eb('s.id', '>', after.id)])]));
    const rows = await q.execute();
    const items = rows.map((r) => ({ ...subFromRow(r), applicationName: r.application_name, owner: r.owner, apiName: r.api_name, apiVersion: r.api_version }));
    return pageOf(items, opts.limit, (s) => ({ createdAt: s.createdAt, id: s.id }));
  }

  /**
   * Subscriptions and applications whose tier is none of `known` (a tier removed from the
   * configuration while they still use it): at most `limit` of each, with the total count.
   */
  async unknownTiers(known: string[], limit: number): Promise<{ subscriptions: UnknownTierUse[]; applications: UnknownTierUse[]; total: number }> {
    const subs = this.db
      .selectFrom('subscriptions as s')
      .innerJoin('applications as a', 'a.id', 's.application_id')
      .innerJoin('users as u', 'u.id', 'a.owner_id')
      .innerJoin('apis as p', 'p.id', 's.api_id')
      .where('s.tier', 'not in', known);
    const apps = this.db.selectFrom('applications as a').innerJoin('users as u', 'u.id', 'a.owner_id').where('a.tier', 'not in', known);
    const [subRows, appRows, subCount, appCount] = await Promise.all([
      subs.select(['s.tier', 'a.name as application', 'u.username as owner', 'p.name as api', 'p.version as version']).orderBy('s.tier').orderBy('a.name').limit(limit).execute(),
      apps.select(['a.tier', 'a.name as application', 'u.username as owner']).orderBy('a.tier').orderBy('a.name').limit(limit).execute(),
      subs.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      apps.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      subscriptions: subRows.map((r) => ({ tier: r.tier, application: r.application, owner: r.owner, api: `${r.api} ${r.version}` })),
      applications: appRows.map((r) => ({ tier: r.tier, application: r.application, owner: r.owner })),
      total: Number(subCount.n) + Number(appCount.n),
    };
  }

  /** How many subscriptions the API has (with one of these tiers, when given). */
  async countSubscriptions(apiId: string, tiers?: string[]): Promise<number> {
    if (tiers !== undefined && tiers.length === 0) return 0;
    let q = this.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('api_id', '=', apiId);
    if (tiers !== undefined) q = q.where('tier', 'in', tiers);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setSubscriptionStatus(id: string, status: SubscriptionStatus): Promise<boolean> {
    const res = await this.db.updateTable('subscriptions').set({ status }).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async removeSubscription(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('subscriptions').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

/** A subscription (with its API) or an application that uses a tier the configuration lacks. */
export interface UnknownTierUse {
  tier: string;
  application: string;
  owner: string;
  api?: string;
}
