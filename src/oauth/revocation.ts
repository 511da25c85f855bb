import type { GrantRef, TokenOwner } from '../store/tokens.js';
import type { TokenEvents } from './events.js';

/** The storage revocation needs. */
export interface RevocationStorage {
  revokeAccess(tokenKey: string, now: number): Promise<boolean>;
  revokeGrants(grants: readonly GrantRef[], now: number): Promise<number>;
  revokeTokensOf(owner: TokenOwner, now: number): Promise<number>;
}

/**
 * The one place tokens are revoked before their expiry: each method changes the store and
 * then tells every cache (the invalidation event), so no caller can forget the event. The
 * event goes out after the store has committed, so a cache that reloads at once sees the
 * revocation.
 */
export class Revocation {
  constructor(
    private readonly store: RevocationStorage,
    private readonly events: TokenEvents,
  ) {}

  /** One access token (its refresh token stays usable). True when it was live. */
  async accessToken(tokenKey: string, now: number): Promise<boolean> {
    const revoked = await this.store.revokeAccess(tokenKey, now);
    if (revoked) this.events.invalidated({ tokenKeys: [tokenKey] });
    return revoked;
  }

  /** Every token of one grant (its lineage): refresh token reuse, code reuse, a revoked refresh token. */
  async grant(grant: GrantRef, now: number): Promise<void> {
    await this.store.revokeGrants([grant], now);
    this.events.invalidated({ grantIds: [grant.id] });
  }

  /** Every token issued with these consumer keys (an application's, or one key's). Returns grants revoked. */
  async consumerKeys(consumerKeys: string[], now: number): Promise<number> {
    if (consumerKeys.length === 0) return 0;
    const n = await this.store.revokeTokensOf({ consumerKeys }, now);
    this.events.invalidated({ consumerKeys });
    return n;
  }

  /** Every token a local user authorized. Returns grants revoked. */
  async user(username: string, now: number): Promise<number> {
    const n = await this.store.revokeTokensOf({ username }, now);
    this.events.invalidated({ usernames: [username] });
    return n;
  }

  /** Every token issued for subjects of one identity provider. Returns grants revoked. */
  async identityProvider(idp: string, now: number): Promise<number> {
    const n = await this.store.revokeTokensOf({ idp }, now);
    this.events.invalidated({ idps: [idp] });
    return n;
  }

  /**
   * Tokens that became invalid without a store change (their application was deleted, so the
   * store no longer finds them): only the caches are told.
   */
  forgetApplications(applicationIds: string[]): void {
    if (applicationIds.length > 0) this.events.invalidated({ applicationIds });
  }
}
