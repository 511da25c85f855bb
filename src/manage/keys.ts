import { sha256 } from '../crypto/hash.js';
import { newConsumerKey, newConsumerSecret } from '../crypto/random.js';
import { Conflict, InvalidInput, NotFound } from '../errors.js';
import { applicationToken } from '../oauth/grants/client-credentials.js';
import { grantScope, parseScope } from '../oauth/scope.js';
import type { ConsumerKey } from '../store/index.js';
import type { KeyType } from '../types.js';
import type { Actor } from './actor.js';
import type { Applications } from './applications.js';
import type { ManageContext } from './context.js';
import * as rules from './rules.js';
import { keyView, type IssuedKeys, type KeyView } from './views.js';

/**
 * Consumer keys, one pair per application and key type, as the Store's "Generate" button
 * made them. The secret is shown only by the call that makes it; the store keeps its SHA-256.
 */
export class Keys {
  constructor(
    private readonly c: ManageContext,
    private readonly applications: Applications,
  ) {}

  async generate(actor: Actor, applicationId: string, type: string, opts: { validitySeconds?: number | string; public?: boolean } = {}): Promise<IssuedKeys> {
    const app = await this.applications.visible(actor, applicationId);
    const keyType = rules.keyType(type);
    const validity = opts.validitySeconds === undefined ? null : rules.validitySeconds(opts.validitySeconds);
    const existing = await this.c.store.applications.key(app.id, keyType);
    if (existing) {
      if (opts.public && existing.secretHash !== null) {
        throw new Conflict(`the ${keyType} key of this application is confidential (it has a secret) and cannot be made public; use another application for a public client`);
      }
      throw new Conflict(`the application already has a ${keyType} key; regenerate its secret for a new one`);
    }
    const consumerKey = newConsumerKey();
    const consumerSecret = opts.public ? undefined : newConsumerSecret();
    await this.c.recorder.change(
      actor,
      { operation: 'generateKeys', targetType: 'application', targetId: app.id, detail: { keyType, consumerKey, public: Boolean(opts.public), validitySeconds: validity } },
      async (tx) => {
        await tx.applications.createKey({ consumerKey, applicationId: app.id, keyType, secretHash: consumerSecret === undefined ? null : sha256(consumerSecret), validitySeconds: validity });
        return { value: undefined };
      },
    );
    return { consumerKey, ...(consumerSecret !== undefined ? { consumerSecret } : {}), keyType };
  }

  /** The key without its secret. */
  async get(actor: Actor, applicationId: string, type: string): Promise<KeyView> {
    return keyView(await this.find(actor, applicationId, type));
  }

  async regenerateSecret(actor: Actor, applicationId: string, type: string): Promise<IssuedKeys> {
    const key = await this.find(actor, applicationId, type);
    if (key.secretHash === null) throw new Conflict(`the ${key.keyType} key of this application is a public client: it has no secret to regenerate`);
    const consumerSecret = newConsumerSecret();
    await this.c.recorder.change(actor, { operation: 'regenerateSecret', targetType: 'application', targetId: key.applicationId, detail: { keyType: key.keyType, consumerKey: key.consumerKey } }, async (tx) => {
      await tx.applications.updateKey(key.consumerKey, { secretHash: sha256(consumerSecret) });
      // Every node forgets the old record: the old secret stops authenticating at once.
      return { value: undefined, changes: [{ kind: 'clients', consumerKeys: [key.consumerKey] }] };
    });
    return { consumerKey: key.consumerKey, consumerSecret, keyType: key.keyType };
  }

  /** Sets (or with null clears) the lifetime of application tokens issued with the key; says what it was. */
  async setValidity(actor: Actor, applicationId: string, type: string, validitySeconds: number | string | null): Promise<KeyView & { previousValiditySeconds: number | null }> {
    const key = await this.find(actor, applicationId, type);
    const validity = validitySeconds === null ? null : rules.validitySeconds(validitySeconds);
    // the same lifetime again: nothing to record or tell the nodes
    if (validity === key.validitySeconds) return { ...keyView(key), previousValiditySeconds: key.validitySeconds };
    await this.c.recorder.change(
      actor,
      { operation: 'updateKeys', targetType: 'application', targetId: key.applicationId, detail: { keyType: key.keyType, validitySeconds: validity, previousValiditySeconds: key.validitySeconds } },
      async (tx) => {
        await tx.applications.updateKey(key.consumerKey, { validitySeconds: validity });
        return { value: undefined, changes: [{ kind: 'clients', consumerKeys: [key.consumerKey] }] };
      },
    );
    return { ...keyView({ ...key, validitySeconds: validity }), previousValiditySeconds: key.validitySeconds };
  }

  /** Revokes every token issued with the key (the key keeps working for new tokens). */
  async revokeTokens(actor: Actor, applicationId: string, type: string): Promise<{ consumerKey: string; keyType: KeyType; revokedGrants: number }> {
    const key = await this.find(actor, applicationId, type);
    await this.c.recorder.change(actor, { operation: 'revokeKeyTokens', targetType: 'application', targetId: key.applicationId, detail: { keyType: key.keyType, consumerKey: key.consumerKey } }, async () => ({
      value: undefined,
    }));
    const revokedGrants = await this.c.revocation.consumerKeys([key.consumerKey], this.c.clock());
    await this.c.recorder.publish([{ kind: 'tokens', invalidation: { consumerKeys: [key.consumerKey] } }]);
    return { consumerKey: key.consumerKey, keyType: key.keyType, revokedGrants };
  }

  /** Revokes the tokens of every key the application has (`app revoke-tokens` without --type), key by key. */
  async revokeAllTokens(actor: Actor, applicationId: string): Promise<{ consumerKey: string; keyType: KeyType; revokedGrants: number }[]> {
    const app = await this.applications.visible(actor, applicationId);
    const keys = await this.c.store.applications.keys(app.id);
    if (keys.length === 0) throw new NotFound('the application has no keys yet: there are no tokens to revoke');
    const revoked = [];
    for (const key of keys) revoked.push(await this.revokeTokens(actor, app.id, key.keyType));
    return revoked;
  }

  /**
   * An application token for the key (what the Store's "Generate access token" gives): the
   * token /token's client_credentials grant would issue (the owner as subject, no username, the
   * key type's default scope), shown once, for `validitySeconds` (default the key's validity,
   * else oauth.accessTokenValidity). A public client has none, as at /token.
   */
  async issueAccessToken(actor: Actor, applicationId: string, type: string, validitySeconds?: number | string): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number; scope: string; keyType: KeyType }> {
    const key = await this.find(actor, applicationId, type);
    const client = await this.c.store.applications.findClient(key.consumerKey);
    if (!client) throw new NotFound(`the application has no ${key.keyType} key yet; generate it first`);
    if (key.secretHash === null) throw new InvalidInput(undefined, `the ${key.keyType} key is a public client: it gets tokens through /authorize with PKCE, not application tokens`);
    const ttl = validitySeconds === undefined ? (key.validitySeconds ?? this.c.config.oauth.accessTokenValidity) : rules.validitySeconds(validitySeconds);
    const now = this.c.clock();
    const { tokens, response } = applicationToken(this.c.issuer, client, grantScope(parseScope(undefined), client), ttl, now);
    await this.c.store.tokens.create(tokens);
    await this.c.recorder.change(actor, { operation: 'generateAccessToken', targetType: 'application', targetId: key.applicationId, detail: { keyType: key.keyType, expiresIn: ttl } }, async () => ({ value: undefined }));
    return { accessToken: response.access_token, tokenType: 'Bearer', expiresIn: ttl, scope: response.scope, keyType: key.keyType };
  }

  /** The key of an application the actor may act on; "not found" when it was never generated. */
  async find(actor: Actor, applicationId: string, type: string): Promise<ConsumerKey> {
    const app = await this.applications.visible(actor, applicationId);
    const keyType = rules.keyType(type);
    const key = await this.c.store.applications.key(app.id, keyType);
    if (!key) throw new NotFound(`the application has no ${keyType} key yet; generate it first`);
    return key;
  }
}
