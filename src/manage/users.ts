import { hashPassword } from '../crypto/password.js';
import { Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests } from '../errors.js';
import { AttemptBudget } from '../oauth/attempt-budget.js';
import type { ManagedStores } from '../store/index.js';
import type { Role, User } from '../store/users.js';
import { isAdmin, requireRole, type Actor, type Via } from './actor.js';
import type { ManageContext } from './context.js';
import { isString, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';
import * as rules from './rules.js';
import { userView, type UserView } from './views.js';

export interface UserUpdate {
  role?: string;
  locked?: boolean;
  password?: string;
}

const SIGN_UP_WINDOW_SECONDS = 3600;

/** The role of a user created without one (and of every self sign-up). */
export const DEFAULT_ROLE: Role = 'subscriber';

/** Users: sign-up, the admin's user management, and who is signed in. */
export class Users {
  /** Sign-ups per client address on this node (`portal.signUpsPerHour`), so no one address fills the disk. */
  private readonly signUps: AttemptBudget;

  constructor(private readonly c: ManageContext) {
    this.signUps = new AttemptBudget({ perAddress: c.config.portal.signUpsPerHour, perSession: 0, windowSeconds: SIGN_UP_WINDOW_SECONDS }, 10_000);
  }

  /**
   * Self sign-up on the Store (when `portal.selfSignUp` allows it): always a subscriber. Each
   * client address may make `portal.signUpsPerHour` accounts an hour on a node; a refused name
   * or password does not count.
   */
  async signUp(input: { username: string; password: string }, from: { via: Via; address?: string }): Promise<UserView> {
    if (!this.c.config.portal.selfSignUp) throw new Forbidden('self sign-up is turned off on this server; ask an administrator for an account');
    const username = rules.username(input.username);
    const password = rules.password(input.password, username);
    const now = this.c.clock();
    if (!this.signUps.allows(from, now)) {
      throw new TooManyRequests(`too many accounts were created from your address; try again within the hour or ask an administrator for an account`, SIGN_UP_WINDOW_SECONDS);
    }
    const actor: Actor = { username, role: 'subscriber', kind: 'user', via: from.via, ...(from.address ? { address: from.address } : {}) };
    const user = await this.insert(actor, username, password, 'subscriber', 'signUp');
    this.signUps.spend(from, now);
    return user;
  }

  async create(actor: Actor, input: { username: string; password: string; role?: string }): Promise<UserView> {
    requireRole(actor, 'admin', 'creating users');
    const username = rules.username(input.username);
    const role = rules.role(input.role ?? DEFAULT_ROLE);
    const password = rules.password(input.password, username);
    return this.insert(actor, username, password, role, 'createUser');
  }

  private async insert(actor: Actor, username: string, password: string, role: Role, operation: string): Promise<UserView> {
    // Names that differ only in case would look the same in every list and log: one of them only.
    const variant = await this.c.store.users.findCaseVariant(username);
    if (variant) throw new Conflict(variant.username === username ? `user "${username}" already exists` : `user "${variant.username}" already exists (names differ only in case are not allowed)`, 'username');
    const hash = await hashPassword(password);
    return this.c.recorder.change(actor, { operation, targetType: 'user', targetId: username, detail: { role } }, async (tx) => ({
      value: userView(await tx.users.create(username, hash, role)),
    }));
  }

  /** The signed-in user (`getCurrentUser`). */
  current(actor: Actor): { username: string; role: string } {
    return { username: actor.username, role: actor.role };
  }

  async list(actor: Actor, page: PageRequest = {}): Promise<Page<UserView>> {
    requireRole(actor, 'admin', 'listing users');
    const limit = limitOf(page);
    return pageView(await this.c.store.users.list({ after: positionOf(page, isString), limit }), userView);
  }

  async show(actor: Actor, username: string): Promise<UserView> {
    return userView(await this.visible(actor, username));
  }

  /**
   * Changes a user's role, lock or password. Role and lock are the admin's; a user may change
   * their own password. Locking revokes every token the user authorized, ends their sign-in
   * sessions (/authorize and the portal) and stops sign-in, code exchange and refresh at once;
   * a new password does the same but for the lock (a password is changed when it may be known
   * to someone else, and so may a session opened with it).
   */
  async update(actor: Actor, username: string, input: UserUpdate): Promise<UserView> {
    const user = await this.visible(actor, username);
    if ((input.role !== undefined || input.locked !== undefined) && !isAdmin(actor)) throw new Forbidden('changing a role or a lock needs the admin role');
    if (input.role === undefined && input.locked === undefined && input.password === undefined) throw new InvalidInput(undefined, 'nothing to change: give role, locked or password');
    const role = input.role === undefined ? undefined : rules.role(input.role);
    const passwordHash = input.password === undefined ? undefined : await hashPassword(rules.password(input.password, username));
    const lockedAt = input.locked === undefined ? undefined : input.locked ? (user.lockedAt ?? this.c.clock()) : null;
    if ((role !== undefined && role !== 'admin') || input.locked === true) await this.keepAnAdmin(user, 'demote or lock');
    const detail: Record<string, unknown> = {};
    if (role !== undefined) detail.role = role;
    if (input.locked !== undefined) detail.locked = input.locked;
    if (passwordHash !== undefined) detail.passwordChanged = true;
    await this.c.recorder.change(actor, { operation: 'updateUser', targetType: 'user', targetId: username, detail }, async (tx) => {
      await tx.users.update(username, { role, passwordHash, lockedAt });
      return { value: undefined };
    });
    // Unlocking also lifts a lock-out by failed sign-ins (security.lockout): the admin who
    // unlocks a user means them to sign in now.
    if (input.locked === false) await this.c.store.lockout.clear(username);
    if ((input.locked === true && user.lockedAt === null) || passwordHash !== undefined) {
      await this.endSessionsOf(user);
      await this.revokeTokensOf(username);
    }
    return userView((await this.c.store.users.findByUsername(username))!);
  }

  /** Removes a user with their applications (and so their keys, subscriptions and tokens). */
  async remove(actor: Actor, username: string): Promise<void> {
    requireRole(actor, 'admin', 'removing users');
    const user = await this.visible(actor, username);
    await this.keepAnAdmin(user, 'remove');
    const apps = await allApplications(this.c.store, username);
    const consumerKeys = (await Promise.all(apps.map((a) => this.c.store.applications.keys(a.id)))).flat().map((k) => k.consumerKey);
    await this.c.recorder.change(actor, { operation: 'deleteUser', targetType: 'user', targetId: username }, async (tx) => {
      await tx.users.remove(username);
      return {
        value: undefined,
        changes: [
          { kind: 'tokens', invalidation: { applicationIds: apps.map((a) => a.id) } },
          { kind: 'clients', consumerKeys },
          { kind: 'apis' },
        ],
      };
    });
    await this.revokeTokensOf(username);
  }

  /** Signs the user out everywhere: their /authorize and portal sessions are deleted. */
  private async endSessionsOf(user: User): Promise<void> {
    await this.c.store.sessions.removeOfUser(user.id);
    await this.c.store.portalSessions.removeOfUser(user.id);
  }

  private async revokeTokensOf(username: string): Promise<void> {
    await this.c.revocation.user(username, this.c.clock());
    await this.c.recorder.publish([{ kind: 'tokens', invalidation: { usernames: [username] } }]);
  }

  /** A user the actor may see: themselves, or anyone for an admin (others are "not found", so names do not leak). */
  private async visible(actor: Actor, username: string): Promise<User> {
    if (!isAdmin(actor) && actor.username !== username) throw new NotFound(`no user "${username}"`);
    const user = await this.c.store.users.findByUsername(username);
    if (!user) throw new NotFound(`no user "${username}"`);
    return user;
  }

  /** The last admin may not be demoted, locked or removed: nobody could manage the server after. */
  private async keepAnAdmin(user: User, what: string): Promise<void> {
    if (user.role !== 'admin' || user.lockedAt !== null) return;
    const admins = await this.c.store.users.countByRole('admin');
    if (admins <= 1) throw new Conflict(`"${user.username}" is the only admin: create another admin before you ${what} this one`);
  }
}

/** Every application of a user (for removal: their ids and keys), page by page. */
export async function allApplications(stores: Pick<ManagedStores, 'applications'>, owner: string) {
  const out = [];
  let after: { name: string; id: string } | undefined;
  do {
    const page = await stores.applications.list({ owner, after, limit: 200 });
    out.push(...page.items);
    after = page.next;
  } while (after !== undefined);
  return out;
}
