import { createHash, randomBytes } from 'node:crypto';
import type { GatewayApi, GatewayStore, GatewaySubscription, TokenInfo } from '../../../src/gateway/types.js';

/** Tokens are looked up by their SHA-256 (base64url), the opaque format's lookup key. */
const keyOf = (raw: string): string => createHash('sha256').update(raw).digest('base64url');

/** In-memory GatewayStore for tests and benches: counts calls, can be slowed down or broken. */
export class MemoryStore implements GatewayStore {
  readonly apis = new Map<string, GatewayApi>();
  readonly tokens = new Map<string, TokenInfo>();
  readonly subs = new Map<string, GatewaySubscription>();
  readonly calls = { api: 0, token: 0, sub: 0 };
  /** added latency of every call, ms */
  delayMs = 0;
  /** when set, every call rejects with it */
  failWith: Error | undefined;

  addApi(api: Partial<GatewayApi> & Pick<GatewayApi, 'context' | 'version' | 'productionUrl'>): GatewayApi {
    const full: GatewayApi = { id: api.id ?? `api-${randomBytes(4).toString('hex')}`, name: api.name ?? api.context.slice(1), tiers: ['Gold', 'Silver', 'Bronze', 'Unlimited'], ...api, sendJwt: api.sendJwt ?? false };
    this.apis.set(`${full.context}\n${full.version}`, full);
    return full;
  }

  /** Creates a token for a (new or given) application; returns the raw token and its info. */
  addToken(partial: Partial<TokenInfo> = {}, raw = randomBytes(24).toString('base64url')): { token: string; info: TokenInfo } {
    const appId = partial.applicationId ?? `app-${randomBytes(4).toString('hex')}`;
    const info: TokenInfo = {
      tokenKey: keyOf(raw),
      grantId: `grant-${randomBytes(4).toString('hex')}`,
      consumerKey: `ck-${appId}`,
      applicationId: appId,
      applicationName: `Application ${appId}`,
      applicationTier: 'Unlimited',
      subscriber: 'alice',
      keyType: 'PRODUCTION',
      scope: ['default'],
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      ...partial,
    };
    this.tokens.set(info.tokenKey, info);
    return { token: raw, info };
  }

  subscribe(applicationId: string, apiId: string, tier = 'Unlimited', status: GatewaySubscription['status'] = 'ACTIVE'): GatewaySubscription {
    const s: GatewaySubscription = { applicationId, apiId, tier, status };
    this.subs.set(`${applicationId}\n${apiId}`, s);
    return s;
  }

  revoke(token: string): void {
    this.tokens.delete(keyOf(token));
  }

  private async gate(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith !== undefined) throw this.failWith;
  }

  async findPublishedApi(context: string, version: string): Promise<GatewayApi | undefined> {
    this.calls.api++;
    await this.gate();
    return this.apis.get(`${context}\n${version}`);
  }

  async lookupAccessToken(tokenKey: string): Promise<TokenInfo | undefined> {
    this.calls.token++;
    await this.gate();
    const info = this.tokens.get(tokenKey);
    if (info === undefined || info.expiresAt * 1000 <= Date.now()) return undefined;
    return info;
  }

  async findSubscription(applicationId: string, apiId: string): Promise<GatewaySubscription | undefined> {
    this.calls.sub++;
    await this.gate();
    return this.subs.get(`${applicationId}\n${apiId}`);
  }
}
