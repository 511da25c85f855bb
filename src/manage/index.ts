import type { ChangeSink } from '../cluster/change.js';
import type { OAuthCore } from '../oauth/core.js';
import type { Store } from '../store/index.js';
import { nowSeconds } from '../clock.js';
import { Apis } from './apis.js';
import { Applications } from './applications.js';
import { Audit } from './audit.js';
import type { ManageConfig, ManageContext } from './context.js';
import { IdentityProviders } from './idps.js';
import { Keys } from './keys.js';
import { Recorder } from './recorder.js';
import { SignIn } from './sign-in.js';
import { SigningKeys } from './signing-keys.js';
import { Tiers } from './tiers.js';
import { PortalSessions } from './sessions.js';
import { Subscriptions } from './subscriptions.js';
import { ApplicationTokens } from './tokens.js';
import { Users } from './users.js';

/**
 * The management service: every rule and permission of the management plane, one module per
 * resource. The CLI, the admin REST API and the portal only parse, call and render.
 */
export interface Management {
  users: Users;
  applications: Applications;
  keys: Keys;
  tokens: ApplicationTokens;
  apis: Apis;
  subscriptions: Subscriptions;
  identityProviders: IdentityProviders;
  audit: Audit;
  signIn: SignIn;
  portalSessions: PortalSessions;
  /** The cluster's JWT signing keys (list, rotate). */
  signingKeys: SigningKeys;
  /** The throttling tiers of the configuration (list). */
  tiers: Tiers;
}

export function createManagement(deps: { store: Store; oauth: OAuthCore; config: ManageConfig; sink: ChangeSink; kek: () => Buffer }): Management {
  const c: ManageContext = {
    store: deps.store,
    recorder: new Recorder(deps.store, deps.sink, nowSeconds),
    revocation: deps.oauth.revocation,
    issuer: deps.oauth.issuer,
    passwords: deps.oauth.passwords,
    config: deps.config,
    clock: nowSeconds,
    kek: deps.kek,
  };
  const applications = new Applications(c);
  const apis = new Apis(c);
  const users = new Users(c);
  const signIn = new SignIn(c, deps.oauth.format.key);
  return {
    users,
    applications,
    keys: new Keys(c, applications),
    tokens: new ApplicationTokens(c, applications),
    apis,
    subscriptions: new Subscriptions(c, applications, apis),
    identityProviders: new IdentityProviders(c),
    audit: new Audit(c),
    signIn,
    portalSessions: new PortalSessions(c, signIn, users),
    signingKeys: new SigningKeys(c),
    tiers: new Tiers(c),
  };
}

export type { Actor, Via } from './actor.js';
export { cliActor, hasRole, isAdmin } from './actor.js';
export { MANAGE_SCOPE, Unauthenticated, InsufficientScope, type From } from './sign-in.js';
export type { PortalSignIn } from './sessions.js';
export type { SigningKeyView } from './signing-keys.js';
export type { TierView } from './tiers.js';
export type * from './views.js';
export type { Page, PageRequest } from './page.js';
export { DEFAULT_APPLICATION_TIER } from './applications.js';
export { DEFAULT_ROLE } from './users.js';
export { mayRemove } from './subscriptions.js';
