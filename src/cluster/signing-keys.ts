import { randomBytes, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { deriveKek, newSigningKey, publicJwkOf, unwrapKey, wrapKey } from '../crypto/key-wrap.js';
import { GatehouseError } from '../errors.js';
import { isUniqueViolation } from '../store/errors.js';
import type { ManagedStores, Store } from '../store/index.js';
import type { StoredSigningKey } from '../store/signing-keys.js';

/** How long backends may cache /.well-known/jwks.json (its Cache-Control max-age). */
export const JWKS_MAX_AGE_SECONDS = 300;
/**
 * Added to the assertion lifetime when a rotation retires a key: nodes learn of a rotation
 * within the change-feed bound (about a second) and clocks differ a little; a minute covers both.
 */
export const RETIRE_SLACK_SECONDS = 60;

/** The key-encryption secret does not open the keys in the database (nodes configured differently). */
export class KeysSecretMismatch extends GatehouseError {
  override name = 'KeysSecretMismatch';
  constructor(message: string) {
    super('conflict', message);
  }
}

export interface KeysSecret {
  kek: Buffer;
  /** Where it came from: keys.secret (or GATEHOUSE_KEYS_SECRET), keys.secretFile, or the file made in the data directory. */
  origin: 'secret' | 'secretFile' | 'generated';
  file?: string;
}

/** The file a node makes when no secret is configured (fine for one node; a cluster configures one). */
export const generatedSecretFile = (dataDir: string): string => path.join(dataDir, 'keys', 'keys-secret');

/** The key-encryption key from the configuration (never logged). */
export function keysSecret(config: Pick<Config, 'dataDir' | 'keys'>): KeysSecret {
  if (config.keys.secret !== undefined) return { kek: deriveKek(config.keys.secret), origin: 'secret' };
  if (config.keys.secretFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.keys.secretFile, 'utf8').trim();
    } catch (err) {
      throw new GatehouseError('invalid', `keys.secretFile: cannot read ${config.keys.secretFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (text.length < 32) throw new GatehouseError('invalid', `keys.secretFile: ${config.keys.secretFile} must hold a secret of at least 32 characters`);
    return { kek: deriveKek(text), origin: 'secretFile', file: config.keys.secretFile };
  }
  const file = generatedSecretFile(config.dataDir);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return { kek: deriveKek(readFileSync(file, 'utf8').trim()), origin: 'generated', file };
}

/** The key a node signs with now. */
export interface ActiveKey {
  generation: number;
  kid: string;
  alg: 'ES256';
  privateKey: KeyObject;
}

/** The signing key (the newest that has begun signing) and the published next key. */
export function rolesOf(keys: StoredSigningKey[]): { current: StoredSigningKey | undefined; next: StoredSigningKey | undefined } {
  const signing = keys.filter((k) => k.signsFrom !== null);
  const waiting = keys.filter((k) => k.signsFrom === null);
  return { current: signing[signing.length - 1], next: waiting[waiting.length - 1] };
}

/** A new key row of `generation`; signing from `signsFrom` (null: published as next). */
export async function makeKeyRow(kek: Buffer, generation: number, now: number, signsFrom: number | null, privateKey: KeyObject = newSigningKey()): Promise<StoredSigningKey> {
  const { kid, jwk } = await publicJwkOf(privateKey);
  return { generation, kid, alg: 'ES256', publicJwk: jwk, privateKey: wrapKey(kek, kid, privateKey), createdAt: now, signsFrom, publishedUntil: null };
}

const mismatch = (kid: string) =>
  new KeysSecretMismatch(
    `the JWT signing key ${kid} in the database does not decrypt with this node's key-encryption secret: every node sharing the database ` +
      'needs the same keys.secret (GATEHOUSE_KEYS_SECRET) or keys.secretFile (see "One signing identity" in the README)',
  );

/**
 * Makes the cluster's first keys when the database has none: a signing key (the node's key
 * from an older version's <dataDir>/keys/jwt-signing-key.pem when there is one, so backends
 * that know its kid keep verifying) and a published next key. Two nodes doing this at once
 * insert the same generations: one commits, the other reads what it made.
 */
export async function ensureSigningKeys(store: Pick<Store, 'transaction' | 'signingKeys'>, kek: Buffer, now: number, legacyPemFile?: string): Promise<StoredSigningKey[]> {
  const keys = await store.signingKeys.all();
  if (rolesOf(keys).current !== undefined) return keys;
  const legacy = legacyPemFile !== undefined && existsSync(legacyPemFile) ? createPrivateKey(readFileSync(legacyPemFile, 'utf8')) : undefined;
  const base = keys.reduce((m, k) => Math.max(m, k.generation), 0);
  const first = await makeKeyRow(kek, base + 1, now, now, legacy);
  const next = await makeKeyRow(kek, base + 2, now, null);
  try {
    await store.transaction(async (tx: ManagedStores) => {
      await tx.signingKeys.insert(first);
      await tx.signingKeys.insert(next);
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  return store.signingKeys.all();
}

/**
 * One node's view of the cluster's signing keys: what it signs X-JWT-Assertion with and the JWKS
 * it publishes (every key not yet past its publication: the signing key, the next key, and retired
 * keys until every assertion they signed has expired). A rotation anywhere reaches it through the
 * change feed (`reload`); a reload that fails is retried every second until it succeeds.
 */
export class SigningKeyRing {
  private keys: StoredSigningKey[] = [];
  private active!: ActiveKey;
  private retry: NodeJS.Timeout | undefined;
  private failing = false;
  private closed = false;

  private constructor(
    private readonly store: Pick<Store, 'transaction' | 'signingKeys'>,
    private readonly kek: Buffer,
    private readonly log: Logger,
  ) {}

  static async open(store: Pick<Store, 'transaction' | 'signingKeys'>, kek: Buffer, opts: { now: number; legacyPemFile?: string; log: Logger }): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(store, kek, opts.log);
    ring.use(await ensureSigningKeys(store, kek, opts.now, opts.legacyPemFile));
    return ring;
  }

  get current(): ActiveKey {
    return this.active;
  }

  /** The published keys at `now` (epoch s), signing key first. */
  jwks(now: number): { keys: Record<string, unknown>[] } {
    const published = this.keys.filter((k) => k.publishedUntil === null || k.publishedUntil > now);
    published.sort((a, b) => (a.generation === this.active.generation ? -1 : b.generation === this.active.generation ? 1 : b.generation - a.generation));
    return { keys: published.map((k) => k.publicJwk) };
  }

  /** Reads the keys again (a rotation happened somewhere). */
  async reload(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    try {
      this.use(await this.store.signingKeys.all());
      if (this.failing) this.log.info({ event: 'signing_keys_reloaded', kid: this.active.kid }, 'signing keys reloaded');
      this.failing = false;
    } catch (err) {
      if (this.closed) return;
      // One warning per outage, not one per retry.
      if (!this.failing) this.log.warn({ event: 'signing_keys_unreadable', err: { message: (err as Error).message } }, 'signing keys could not be reloaded after a rotation; retrying every second (signing with the previous key meanwhile)');
      this.failing = true;
      this.retry = setTimeout(() => void this.reload(), 1000);
      this.retry.unref();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
  }

  private use(keys: StoredSigningKey[]): void {
    const { current } = rolesOf(keys);
    if (current === undefined) throw new GatehouseError('internal', 'the database holds no signing key');
    if (this.active?.generation !== current.generation) {
      const privateKey = unwrapKey(this.kek, current.kid, current.privateKey);
      if (privateKey === undefined) throw mismatch(current.kid);
      if (this.active !== undefined) this.log.info({ event: 'signing_key_rotated', kid: current.kid, previous: this.active.kid }, 'now signing with the rotated key');
      this.active = { generation: current.generation, kid: current.kid, alg: 'ES256', privateKey };
    }
    this.keys = keys;
  }
}
