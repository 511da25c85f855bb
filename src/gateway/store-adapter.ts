import { nowSeconds } from '../clock.js';
import { sha256 } from '../crypto/hash.js';
import type { TokenFormat } from '../oauth/token-format.js';
import type { Store } from '../store/index.js';
import type { GatewayStore } from './types.js';


/**
 * The gateway's narrow storage interface over the data layer. Called only on cache misses:
 * a cached token, API and subscription cost the gateway no I/O at all.
 */
export function gatewayStore(store: Pick<Store, 'apis' | 'tokens'>, format: TokenFormat): GatewayStore {
  return {
    async findPublishedApi(context, version) {
      const api = await store.apis.findByContext(context, version);
      if (!api || api.status !== 'PUBLISHED') return undefined;
      return {
        id: api.id,
        name: api.name,
        context: api.context,
        version: api.version,
        productionUrl: api.productionUrl,
        ...(api.sandboxUrl ? { sandboxUrl: api.sandboxUrl } : {}),
        tiers: api.tiers,
        ...(api.timeoutMs ? { timeoutMs: api.timeoutMs } : {}),
        sendJwt: api.sendJwt,
      };
    },
    async lookupAccessToken(token, hash) {
      // The cache keys by sha256, as the store does with the default (opaque) token format.
      const tokenHash = format.key === sha256 ? hash : format.key(token);
      const t = await store.tokens.findLiveAccessWithApplication(tokenHash, nowSeconds());
      if (!t) return undefined;
      return {
        tokenHash,
        grantId: t.grantId,
        consumerKey: t.consumerKey,
        applicationId: t.applicationId,
        applicationName: t.applicationName,
        subscriber: t.owner,
        keyType: t.keyType,
        endUser: t.username ?? t.subject,
        scope: t.scope.split(' '),
        expiresAt: t.expiresAt,
      };
    },
    async findSubscription(applicationId, apiId) {
      const s = await store.apis.findSubscription(applicationId, apiId);
      return s && { applicationId: s.applicationId, apiId: s.apiId, tier: s.tier, status: s.status };
    },
  };
}
