import { InvalidInput, NotFound } from '../errors.js';
import { acceptedAudiences, acceptedRecipients } from '../saml/audiences.js';
import type { IdentityProvider } from '../store/index.js';
import { requireRole, type Actor } from './actor.js';
import type { ManageContext } from './context.js';
import { isString, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';
import * as rules from './rules.js';
import { identityProviderView, type IdentityProviderView } from './views.js';

export interface IdentityProviderInput {
  issuer: string;
  certificates: string[];
  alias?: string | null;
  audiences?: string[];
}

export type IdentityProviderUpdate = Partial<Omit<IdentityProviderInput, 'issuer'>> & {
  /** No audiences of its own again (the defaults, or the alias alone): what `audiences: []` says, for the interfaces that ask it apart from a list (`--no-audiences`, the portal's checkbox). */
  removeAudiences?: boolean;
};

/** Trusted SAML 2.0 identity providers for the saml2-bearer grant: the admin's. */
export class IdentityProviders {
  constructor(private readonly c: ManageContext) {}

  /** The IdP as every interface shows it: with what this node accepts from it. */
  private view(idp: IdentityProvider): IdentityProviderView {
    const issuer = this.c.config.oauth.issuer;
    return identityProviderView(idp, { audiences: acceptedAudiences(idp, issuer), recipients: acceptedRecipients(idp, issuer, this.c.config.saml.recipients) });
  }

  async create(actor: Actor, input: IdentityProviderInput): Promise<IdentityProviderView> {
    requireRole(actor, 'admin', 'registering identity providers');
    const record = {
      issuer: rules.uri('issuer', input.issuer),
      certificates: rules.certificates(input.certificates).map((c) => c.pem),
      alias: input.alias == null || input.alias === '' ? null : rules.uri('alias', input.alias),
      audiences: rules.audiences(input.audiences ?? []),
    };
    return this.c.recorder.change(actor, { operation: 'createIdentityProvider', targetType: 'identityProvider', detail: { issuer: record.issuer, alias: record.alias, audiences: record.audiences } }, async (tx) => {
      const idp = await tx.idps.add(record);
      return { value: this.view(idp), targetId: idp.id };
    });
  }

  async list(actor: Actor, page: PageRequest = {}): Promise<Page<IdentityProviderView>> {
    requireRole(actor, 'admin', 'listing identity providers');
    const limit = limitOf(page);
    return pageView(await this.c.store.idps.list({ after: positionOf(page, isString), limit }), (i) => this.view(i));
  }

  async get(actor: Actor, id: string): Promise<IdentityProviderView> {
    requireRole(actor, 'admin', 'reading identity providers');
    return this.view(await this.find(id));
  }

  /** An identity provider by its entity ID, as the CLI names it. */
  async byIssuer(actor: Actor, issuer: string): Promise<IdentityProviderView> {
    requireRole(actor, 'admin', 'reading identity providers');
    const idp = await this.c.store.idps.find(issuer);
    if (!idp) throw new NotFound(`no identity provider "${issuer}"`);
    return this.view(idp);
  }

  /** Replaces certificates (a key rollover), the alias or the accepted audiences. */
  async update(actor: Actor, id: string, input: IdentityProviderUpdate): Promise<IdentityProviderView> {
    requireRole(actor, 'admin', 'changing identity providers');
    const idp = await this.find(id);
    const fields: Partial<Pick<IdentityProvider, 'alias' | 'audiences' | 'certificates'>> = {};
    if (input.certificates !== undefined) fields.certificates = rules.certificates(input.certificates).map((c) => c.pem);
    if (input.alias !== undefined) fields.alias = input.alias === null || input.alias === '' ? null : rules.uri('alias', input.alias);
    if (input.removeAudiences === true && input.audiences !== undefined && input.audiences.length > 0) {
      throw new InvalidInput('audiences', 'List audiences or remove them, not both.');
    }
    if (input.audiences !== undefined) fields.audiences = rules.audiences(input.audiences);
    if (input.removeAudiences === true) fields.audiences = [];
    const detail = { alias: fields.alias, audiences: fields.audiences, certificates: fields.certificates?.length };
    return this.c.recorder.change(actor, { operation: 'updateIdentityProvider', targetType: 'identityProvider', targetId: idp.id, detail }, async (tx) => {
      await tx.idps.update(idp.id, fields);
      return { value: this.view((await tx.idps.findById(idp.id))!) };
    });
  }

  /** Stops trusting an IdP: its assertions are refused, and every token issued for its subjects is revoked. */
  async remove(actor: Actor, id: string): Promise<{ revokedGrants: number }> {
    requireRole(actor, 'admin', 'removing identity providers');
    const idp = await this.find(id);
    await this.c.recorder.change(actor, { operation: 'deleteIdentityProvider', targetType: 'identityProvider', targetId: idp.id, detail: { issuer: idp.issuer } }, async (tx) => {
      await tx.idps.remove(idp.id);
      return { value: undefined };
    });
    const revokedGrants = await this.c.revocation.identityProvider(idp.issuer, this.c.clock());
    await this.c.recorder.publish([{ kind: 'tokens', invalidation: { idps: [idp.issuer] } }]);
    return { revokedGrants };
  }

  private async find(id: string): Promise<IdentityProvider> {
    const idp = await this.c.store.idps.findById(id);
    if (!idp) throw new NotFound(`no identity provider ${id}`);
    return idp;
  }
}
