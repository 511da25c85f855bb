import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { nowSeconds } from '../clock.js';
import { Conflict, NotFound } from '../errors.js';
import type { KeyType } from '../types.js';
import { isUniqueViolation } from './errors.js';
import { pageOf, type StorePage } from './page.js';
import type { ApplicationsTable, ConsumerKeysTable, Database } from './schema/index.js';

export interface Application {
  id: string;
  ownerId: string;
  ownerUsername: string;
  name: string;
  tier: string;
  callbackUrls: string[];
  description: string | null;
  /** Browser origins allowed to call the token endpoints (CORS). */
  allowedOrigins: string[];
  /** A resource server that may introspect every token, not only its own. */
  introspectAll: boolean;
  createdAt: number;
}

/** One consumer key of an application, without its secret. */
export interface ConsumerKey {
  consumerKey: string;
  applicationId: string;
  keyType: KeyType;
  /** null for a public client (no secret). */
  secretHash: string | null;
  validitySeconds: number | null;
  createdAt: number;
}

/** What the token endpoint needs to know about a client (one consumer key). */
export interface Client {
  consumerKey: string;
  keyType: KeyType;
  /** null for a public client (no secret). */
  secretHash: string | null;
  validitySeconds: number | null;
  applicationId: string;
  applicationName: string;
  tier: string;
  ownerUsername: string;
  callbackUrls: string[];
  allowedOrigins: string[];
  introspectAll: boolean;
}

export type ApplicationFields = Partial<Pick<Application, 'name' | 'tier' | 'callbackUrls' | 'description' | 'allowedOrigins' | 'introspectAll'>>;

type AppRow = ApplicationsTable & { username: string };

const fromRow = (r: AppRow): Application => ({
  id: r.id,
  ownerId: r.owner_id,
  ownerUsername: r.username,
  name: r.name,
  tier: r.tier,
  callbackUrls: JSON.parse(r.callback_urls) as string[],
  description: r.description,
  allowedOrigins: JSON.parse(r.allowed_origins) as string[],
  introspectAll: Number(r.introspect_all) === 1,
  createdAt: Number(r.created_at),
});

const keyFromRow = (r: ConsumerKeysTable): ConsumerKey => ({
  consumerKey: r.consumer_key,
  applicationId: r.application_id,
  keyType: r.key_type,
  secretHash: r.secret_hash,
  validitySeconds: r.validity_seconds,
  createdAt: Number(r.created_at),
});

/** Applications and their consumer keys (one per key type). */
export class ApplicationStore {
  constructor(private readonly db: Kysely<Database>) {}

  private selectApps() {
    return this.db.selectFrom('applications as a').innerJoin('users as u', 'u.id', 'a.owner_id').selectAll('a').select('u.username');
  }

  async create(input: { ownerUsername: string } & Required<Pick<Application, 'name' | 'tier' | 'callbackUrls'>> & ApplicationFields): Promise<Application> {
    const owner = await this.db.selectFrom('users').select(['id']).where('username', '=', input.ownerUsername).executeTakeFirst();
    if (!owner) throw new NotFound(`no user "${input.ownerUsername}"`);
    const row: ApplicationsTable = {
      id: randomUUID(),
      owner_id: owner.id,
      name: input.name,
      tier: input.tier,
      callback_urls: JSON.stringify(input.callbackUrls),
      description: input.description ?? null,
      allowed_origins: JSON.stringify(input.allowedOrigins ?? []),
      introspect_all: input.introspectAll ? 1 : 0,
      created_at: nowSeconds(),
    };
    try {
      await this.db.insertInto('applications').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`user "${input.ownerUsername}" already has an application named "${input.name}"`, 'name');
      throw err;
    }
    return fromRow({ ...row, username: input.ownerUsername });
  }

  async find(ownerUsername: string, name: string): Promise<Application | undefined> {
    const row = await this.selectApps().where('u.username', '=', ownerUsername).where('a.name', '=', name).executeTakeFirst();
    return row && fromRow(row);
  }

  async findById(id: string): Promise<Application | undefined> {
    const row = await this.selectApps().where('a.id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  /** Applications (of one owner, or all) in name order, after `after`. */
  async list(opts: { owner?: string; after?: { name: string; id: string }; limit: number }): Promise<StorePage<Application, { name: string; id: string }>> {
    let q = this.selectApps().orderBy('a.name').orderBy('a.id').limit(opts.limit + 1);
    if (opts.owner !== undefined) q = q.where('u.username', '=', opts.owner);
    const after = opts.after;
    if (after !== undefined) q = q.where((eb) => eb.or([eb('a.name', '>', after.name), eb.and([eb('a.name', '=', after.name), eb('a.id', '>', after.id)])]));
    return pageOf((await q.execute()).map(fromRow), opts.limit, (a) => ({ name: a.name, id: a.id }));
  }

  /** `ownerUsername` only names the owner in the refusal of a name the owner already has. */
  async update(id: string, fields: ApplicationFields, ownerUsername?: string): Promise<void> {
    const set: Partial<ApplicationsTable> = {};
    if (fields.name !== undefined) set.name = fields.name;
    if (fields.tier !== undefined) set.tier = fields.tier;
    if (fields.callbackUrls !== undefined) set.callback_urls = JSON.stringify(fields.callbackUrls);
    if (fields.description !== undefined) set.description = fields.description;
    if (fields.allowedOrigins !== undefined) set.allowed_origins = JSON.stringify(fields.allowedOrigins);
    if (fields.introspectAll !== undefined) set.introspect_all = fields.introspectAll ? 1 : 0;
    if (Object.keys(set).length === 0) return;
    try {
      await this.db.updateTable('applications').set(set).where('id', '=', id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`${ownerUsername === undefined ? 'the owner' : `user "${ownerUsername}"`} already has an application named "${fields.name}"`, 'name');
      throw err;
    }
  }

  /** Removes the application; its keys and subscriptions go with it (ON DELETE CASCADE). */
  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('applications').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // ---------------------------------------------------------------- consumer keys

  async keys(applicationId: string): Promise<ConsumerKey[]> {
    const rows = await this.db.selectFrom('consumer_keys').selectAll().where('application_id', '=', applicationId).orderBy('key_type').execute();
    return rows.map(keyFromRow);
  }

  async key(applicationId: string, keyType: KeyType): Promise<ConsumerKey | undefined> {
    const row = await this.db.selectFrom('consumer_keys').selectAll().where('application_id', '=', applicationId).where('key_type', '=', keyType).executeTakeFirst();
    return row && keyFromRow(row);
  }

  async createKey(key: Omit<ConsumerKey, 'createdAt'>): Promise<ConsumerKey> {
    const row: ConsumerKeysTable = {
      consumer_key: key.consumerKey,
      application_id: key.applicationId,
      key_type: key.keyType,
      secret_hash: key.secretHash,
      validity_seconds: key.validitySeconds,
      created_at: nowSeconds(),
    };
    try {
      await this.db.insertInto('consumer_keys').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`the application already has a ${key.keyType} key`);
      throw err;
    }
    return keyFromRow(row);
  }

  async updateKey(consumerKey: string, fields: { secretHash?: string; validitySeconds?: number | null }): Promise<void> {
    const set: Partial<ConsumerKeysTable> = {};
    if (fields.secretHash !== undefined) set.secret_hash = fields.secretHash;
    if (fields.validitySeconds !== undefined) set.validity_seconds = fields.validitySeconds;
    if (Object.keys(set).length > 0) await this.db.updateTable('consumer_keys').set(set).where('consumer_key', '=', consumerKey).execute();
  }

  /** Every origin some application registered for CORS. */
  async allOrigins(): Promise<string[]> {
    const rows = await this.db.selectFrom('applications').select('allowed_origins').distinct().where('allowed_origins', '<>', '[]').execute();
    return rows.flatMap((r) => JSON.parse(r.allowed_origins) as string[]);
  }

  async findClient(consumerKey: string): Promise<Client | undefined> {
    const row = await this.db
      .selectFrom('consumer_keys as k')
      .innerJoin('applications as a', 'a.id', 'k.application_id')
      .innerJoin('users as u', 'u.id', 'a.owner_id')
      .select(['k.consumer_key', 'k.key_type', 'k.secret_hash', 'k.validity_seconds', 'a.id', 'a.name', 'a.tier', 'a.callback_urls', 'a.allowed_origins', 'a.introspect_all', 'u.username'])
      .where('k.consumer_key', '=', consumerKey)
      .executeTakeFirst();
    return (
      row && {
        consumerKey: row.consumer_key,
        keyType: row.key_type,
        secretHash: row.secret_hash,
        validitySeconds: row.validity_seconds,
        applicationId: row.id,
        applicationName: row.name,
        tier: row.tier,
        ownerUsername: row.username,
        callbackUrls: JSON.parse(row.callback_urls) as string[],
        allowedOrigins: JSON.parse(row.allowed_origins) as string[],
        introspectAll: Number(row.introspect_all) === 1,
      }
    );
  }
}
