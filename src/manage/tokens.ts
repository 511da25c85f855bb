import { NotFound } from '../errors.js';
import type { Actor } from './actor.js';
import type { Applications } from './applications.js';
import type { ManageContext } from './context.js';
import { isNumber, isString, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';
import { tokenView, type TokenView } from './views.js';

const isTokenPosition = (v: unknown): v is { issuedAt: number; key: string } =>
  typeof v === 'object' && v !== null && isNumber((v as { issuedAt?: unknown }).issuedAt) && isString((v as { key?: unknown }).key);

/** An application's live tokens: their metadata (never a token), and revoking one. */
export class ApplicationTokens {
  constructor(
    private readonly c: ManageContext,
    private readonly applications: Applications,
  ) {}

  async list(actor: Actor, applicationId: string, page: PageRequest = {}): Promise<Page<TokenView>> {
    const app = await this.applications.visible(actor, applicationId);
    const keys = (await this.c.store.applications.keys(app.id)).map((k) => k.consumerKey);
    const limit = limitOf(page);
    return pageView(await this.c.store.tokens.listLive(keys, this.c.clock(), { after: positionOf(page, isTokenPosition), limit }), tokenView);
  }

  /** Revokes a token by its id (its lookup key), with its whole grant: the refresh token too. */
  async revoke(actor: Actor, applicationId: string, tokenId: string): Promise<void> {
    const app = await this.applications.visible(actor, applicationId);
    const token = tokenId.length <= 128 ? await this.c.store.tokens.findAccess(tokenId) : undefined;
    if (!token || token.applicationId !== app.id || token.revokedAt !== null || token.expiresAt <= this.c.clock()) {
      throw new NotFound(`the application has no live token ${tokenId.slice(0, 64)}`);
    }
    await this.c.recorder.change(actor, { operation: 'revokeApplicationToken', targetType: 'application', targetId: app.id, detail: { grantId: token.grantId, keyType: token.keyType } }, async () => ({
      value: undefined,
    }));
    await this.c.revocation.grant({ id: token.grantId, consumerKey: token.consumerKey }, this.c.clock());
    await this.c.recorder.publish([{ kind: 'tokens', invalidation: { grantIds: [token.grantId] } }]);
  }
}
