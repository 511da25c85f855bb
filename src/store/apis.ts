import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Conflict, NotFound } from '../errors.js';
import { isUniqueViolation } from './errors.js';
import { nowSeconds } from '../clock.js';
import type { ApiDefinition } from '../types.js';
import type { ApisTable, ApiStatus, Database, SubscriptionStatus } from './schema/index.js';

/** An API with its life-cycle status (CREATED, PUBLISHED, RETIRED). */
export interface Api extends ApiDefinition {
  status: ApiStatus;
}

export interface Subscription {
  id: string;
  applicationId: string;
  apiId: string;
  tier: string;
  status: SubscriptionStatus;
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
});

/** APIs (Publisher) and subscriptions of applications to them (Store). */
export class ApiStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: Omit<Api, 'id' | 'status'> & { status?: ApiStatus }): Promise<Api> {
    const api: Api = { ...input, id: randomUUID(), status: input.status ?? 'CREATED' };
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
          created_at: nowSeconds(),
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`an API with context ${api.context} or name ${api.name}, version ${api.version} already exists`);
      throw err;
    }
    return api;
  }

  async find(name: string, version: string): Promise<Api | undefined> {
    const row = await this.db.selectFrom('apis').selectAll().where('name', '=', name).where('version', '=', version).executeTakeFirst();
    return row && fromRow(row);
  }

  async findByContext(context: string, version: string): Promise<Api | undefined> {
    const row = await this.db.selectFrom('apis').selectAll().where('context', '=', context).where('version', '=', version).executeTakeFirst();
    return row && fromRow(row);
  }

  async list(): Promise<Api[]> {
    const rows = await this.db.selectFrom('apis').selectAll().orderBy('name').orderBy('version').execute();
    return rows.map(fromRow);
  }

  async setStatus(name: string, version: string, status: ApiStatus): Promise<Api> {
    const res = await this.db.updateTable('apis').set({ status }).where('name', '=', name).where('version', '=', version).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new NotFound(`no API ${name}:${version}`);
    return (await this.find(name, version))!;
  }

  async subscribe(applicationId: string, apiId: string, tier: string): Promise<Subscription> {
    const sub: Subscription = { id: randomUUID(), applicationId, apiId, tier, status: 'ACTIVE' };
    try {
      await this.db
        .insertInto('subscriptions')
        .values({ id: sub.id, application_id: applicationId, api_id: apiId, tier, status: 'ACTIVE', created_at: nowSeconds() })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict('the application is already subscribed to this API');
      throw err;
    }
    return sub;
  }

  async unsubscribe(applicationId: string, apiId: string): Promise<boolean> {
    const res = await this.db.deleteFrom('subscriptions').where('application_id', '=', applicationId).where('api_id', '=', apiId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async setSubscriptionStatus(applicationId: string, apiId: string, status: SubscriptionStatus): Promise<boolean> {
    const res = await this.db
      .updateTable('subscriptions')
      .set({ status })
      .where('application_id', '=', applicationId)
      .where('api_id', '=', apiId)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async findSubscription(applicationId: string, apiId: string): Promise<Subscription | undefined> {
    const r = await this.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('application_id', '=', applicationId)
      .where('api_id', '=', apiId)
      .executeTakeFirst();
    return r && { id: r.id, applicationId: r.application_id, apiId: r.api_id, tier: r.tier, status: r.status };
  }
}
