import { Forbidden, GatehouseError } from '../errors.js';
import { MANAGE_SCOPE } from '../oauth/scope.js';
import type { Role } from '../store/users.js';
import type { Actor, Via } from './actor.js';
import type { ManageContext } from './context.js';

/** The scope an access token needs to act on the admin API for its user (defined with the other scope rules). */
export { MANAGE_SCOPE };

export interface From {
  via: Via;
  address?: string;
}

/** 401: who is calling is not established; `challenge` says which credentials would be (RFC 7235). */
export class Unauthenticated extends GatehouseError {
  override name = 'Unauthenticated';
  constructor(
    message: string,
    readonly bearerError?: 'invalid_token',
  ) {
    super('unauthenticated', message);
  }
}

/** 403 for a valid token without the `manage` scope (RFC 6750 §3.1 insufficient_scope). */
export class InsufficientScope extends Forbidden {
  override name = 'InsufficientScope';
}

/**
 * Who a caller of the management plane is: a user with their password (the same lock-out as
 * the token endpoint, hashing off the event loop), or an access token from this server's
 * /token whose scope includes `manage`, acting as its user within the user's role.
 */
export class SignIn {
  constructor(
    private readonly c: ManageContext,
    private readonly tokenKey: (token: string) => string,
  ) {}

  async withPassword(username: string, password: string, from: From): Promise<Actor> {
    const result = await this.c.passwords.check(username, password, this.c.clock(), from.address !== undefined ? { address: from.address } : {});
    if (!result.ok) throw new Unauthenticated('Invalid username or password, or the account is locked.');
    return actorOf(result.user.username, result.user.role, from);
  }

  async withAccessToken(token: string, from: From): Promise<Actor> {
    const record = token.length <= 512 ? await this.c.store.tokens.findAccess(this.tokenKey(token)) : undefined;
    if (!record || record.revokedAt !== null || record.expiresAt <= this.c.clock()) throw new Unauthenticated('The access token is invalid, expired or revoked.', 'invalid_token');
    if (!record.scope.includes(MANAGE_SCOPE)) throw new InsufficientScope(`The access token's scope does not include ${MANAGE_SCOPE}: ask /token for scope=${MANAGE_SCOPE}.`);
    const user = record.username === null || record.grantType === 'client_credentials' ? undefined : await this.c.store.users.findByUsername(record.username);
    if (!user || user.lockedAt !== null) throw new Unauthenticated('The access token does not belong to a user who may sign in.', 'invalid_token');
    return actorOf(user.username, user.role, from);
  }
}

const actorOf = (username: string, role: Role, from: From): Actor => ({
  username,
  role,
  kind: 'user',
  via: from.via,
  ...(from.address !== undefined ? { address: from.address } : {}),
});
