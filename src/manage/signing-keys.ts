import { ensureSigningKeys, JWKS_MAX_AGE_SECONDS, makeKeyRow, RETIRE_SLACK_SECONDS, rolesOf } from '../cluster/signing-keys.js';
import { unwrapKey } from '../crypto/key-wrap.js';
import { Conflict } from '../errors.js';
import { isUniqueViolation } from '../store/errors.js';
import type { StoredSigningKey } from '../store/signing-keys.js';
import { requireRole, type Actor } from './actor.js';
import type { ManageContext } from './context.js';
import { cursorOf, isNumber, limitOf, positionOf, type Page, type PageRequest } from './page.js';

/** A signing key as `keys list` shows it: never the private half. */
export interface SigningKeyView {
  generation: number;
  kid: string;
  alg: string;
  /** signing: signs assertions now; next: published, signs after the next rotation; retiring: published until publishedUntil; retired: no longer published */
  state: 'signing' | 'next' | 'retiring' | 'retired';
  createdAt: string;
  signsFrom: string | null;
  publishedUntil: string | null;
}

const iso = (s: number | null) => (s === null ? null : new Date(s * 1000).toISOString());

function view(k: StoredSigningKey, roles: ReturnType<typeof rolesOf>, now: number): SigningKeyView {
  const state =
    k.generation === roles.current?.generation ? 'signing' : k.generation === roles.next?.generation ? 'next' : k.publishedUntil !== null && k.publishedUntil <= now ? 'retired' : 'retiring';
  return { generation: k.generation, kid: k.kid, alg: k.alg, state, createdAt: iso(k.createdAt)!, signsFrom: iso(k.signsFrom), publishedUntil: iso(k.publishedUntil) };
}

/**
 * The cluster's JWT signing keys (admins). A rotation makes the published next key the signing
 * key at once (backends have had it in the JWKS since the previous rotation), publishes a new next
 * key, and keeps the old key published until every assertion it signed has expired
 * (gateway.jwtTtl plus a minute). It refuses, unless forced, to promote a next key published for
 * less than the JWKS cache lifetime: a backend could not know it yet.
 */
export class SigningKeys {
  constructor(private readonly c: ManageContext) {}

  /** Newest first, paged like every list (a cursor is the last generation shown); the set is small, so it is read whole. */
  async list(actor: Actor, req: PageRequest = {}): Promise<Page<SigningKeyView>> {
    requireRole(actor, 'admin', 'reading the signing keys');
    const limit = limitOf(req);
    const after = positionOf(req, isNumber);
    // On a database no node has started on yet, this makes the first keys (as a node would).
    const keys = await ensureSigningKeys(this.c.store, this.c.kek(), this.c.clock());
    const roles = rolesOf(keys);
    const now = this.c.clock();
    const newestFirst = keys.map((k) => view(k, roles, now)).reverse().filter((k) => after === undefined || k.generation < after);
    const items = newestFirst.slice(0, limit);
    const more = newestFirst.length > limit;
    return { items, next: more ? cursorOf(items[items.length - 1]!.generation) : null };
  }

  async rotate(actor: Actor, opts: { force?: boolean } = {}): Promise<{ signing: SigningKeyView; next: SigningKeyView; retiring: SigningKeyView }> {
    requireRole(actor, 'admin', 'rotating the signing keys');
    const kek = this.c.kek();
    await ensureSigningKeys(this.c.store, kek, this.c.clock());
    const now = this.c.clock();
    const retireAt = now + this.c.config.gateway.jwtTtl + RETIRE_SLACK_SECONDS;
    try {
      return await this.c.recorder.change(actor, { operation: 'rotateSigningKeys', targetType: 'signingKey' }, async (tx) => {
        const keys = await tx.signingKeys.all();
        const { current, next } = rolesOf(keys);
        if (current === undefined || next === undefined) throw new Conflict('the cluster has no next signing key to rotate to; start a node once, then rotate');
        // A key wrapped with another secret would stop every node that reloads it: refuse first.
        if (unwrapKey(kek, next.kid, next.privateKey) === undefined) {
          throw new Conflict('this process\'s key-encryption secret (keys.secret, GATEHOUSE_KEYS_SECRET or keys.secretFile) does not decrypt the cluster\'s keys: run the rotation with the nodes\' configuration');
        }
        const age = now - next.createdAt;
        if (!opts.force && age < JWKS_MAX_AGE_SECONDS) {
          throw new Conflict(
            `the next key ${next.kid} was published ${age} s ago; backends may cache the JWKS for ${JWKS_MAX_AGE_SECONDS} s and not know it yet. ` +
              `Rotate in ${JWKS_MAX_AGE_SECONDS - age} s, or now with force (the CLI's --force, the API's "force": true; assertions signed with it may be refused until those caches expire)`,
          );
        }
        if (!(await tx.signingKeys.startSigning(next.generation, now))) throw new Conflict('another rotation ran at the same time; list the keys and try again');
        await tx.signingKeys.unpublishAt(current.generation, retireAt);
        const fresh = await makeKeyRow(kek, Math.max(...keys.map((k) => k.generation)) + 1, now, null);
        await tx.signingKeys.insert(fresh);
        const after = await tx.signingKeys.all();
        const roles = rolesOf(after);
        const byGen = (g: number) => view(after.find((k) => k.generation === g)!, roles, now);
        return {
          value: { signing: byGen(next.generation), next: byGen(fresh.generation), retiring: byGen(current.generation) },
          targetId: next.kid,
          changes: [{ kind: 'signingKeys' }],
        };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict('another rotation ran at the same time; list the keys and try again');
      throw err;
    }
  }
}
