import { Forbidden } from '../errors.js';
import type { Role } from '../store/users.js';

/** Where a call came from: the admin REST API, the CLI on the node's machine, or the portal. */
export type Via = 'rest' | 'cli' | 'portal';

/**
 * Who is acting. Every management call takes one and the service decides with it: the roles
 * are nested (an admin may do what a publisher may, a publisher what a subscriber may), and
 * a subscriber acts only on their own applications.
 */
export interface Actor {
  /** The signed-in user, or 'cli' for an operator on the node's machine. */
  username: string;
  role: Role;
  kind: 'user' | 'cli';
  via: Via;
  /** The client address (REST, portal). */
  address?: string;
  /** The operating-system user running the CLI. */
  osUser?: string;
}

/** The CLI acts as an admin on local data: whoever can run it can read the database anyway. */
export function cliActor(osUser: string): Actor {
  return { username: 'cli', role: 'admin', kind: 'cli', via: 'cli', osUser };
}

const RANK: Record<Role, number> = { subscriber: 0, publisher: 1, admin: 2 };

export function hasRole(actor: Actor, role: Role): boolean {
  return RANK[actor.role] >= RANK[role];
}

/** Refuses (403) an actor below `role`, naming what the operation needs. */
export function requireRole(actor: Actor, role: Role, what: string): void {
  if (!hasRole(actor, role)) throw new Forbidden(`${what} needs the ${role} role; you are a ${actor.role}`);
}

export const isAdmin = (actor: Actor): boolean => actor.role === 'admin';
