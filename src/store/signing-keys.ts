import type { Kysely } from 'kysely';
import type { Database } from './schema/index.js';

/** A signing key as stored: the private half still encrypted. */
export interface StoredSigningKey {
  generation: number;
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  /** Encrypted (see src/crypto/key-wrap.ts). */
  privateKey: string;
  createdAt: number;
  /** epoch s it began signing; null for the published "next" key */
  signsFrom: number | null;
  /** epoch s it leaves the JWKS; null while published without end */
  publishedUntil: number | null;
}

/**
 * The cluster's JWT signing keys, one row per generation. The generation is the primary key:
 * two nodes bootstrapping at once, or two rotations at once, insert the same generation and
 * exactly one commits (the other gets a unique violation and reloads).
 */
export class SigningKeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<StoredSigningKey[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('generation').execute();
    return rows.map((r) => ({
      generation: Number(r.generation),
      kid: r.kid,
      alg: r.alg,
      publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
      privateKey: r.private_key,
      createdAt: Number(r.created_at),
      signsFrom: r.signs_from === null ? null : Number(r.signs_from),
      publishedUntil: r.published_until === null ? null : Number(r.published_until),
    }));
  }

  async insert(key: StoredSigningKey): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        generation: key.generation,
        kid: key.kid,
        alg: key.alg,
        public_jwk: JSON.stringify(key.publicJwk),
        private_key: key.privateKey,
        created_at: key.createdAt,
        signs_from: key.signsFrom,
        published_until: key.publishedUntil,
      })
      .execute();
  }

  /** The next key begins signing at `now`. Returns whether it was still the next key. */
  async startSigning(generation: number, now: number): Promise<boolean> {
    const res = await this.db.updateTable('signing_keys').set({ signs_from: now }).where('generation', '=', generation).where('signs_from', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** A retired key stays in the JWKS until `until` (epoch s). */
  async unpublishAt(generation: number, until: number): Promise<void> {
    await this.db.updateTable('signing_keys').set({ published_until: until }).where('generation', '=', generation).where('published_until', 'is', null).execute();
  }
}
