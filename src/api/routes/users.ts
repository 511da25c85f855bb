import type { FastifyInstance } from 'fastify';
import type { Management } from '../../manage/index.js';
import { operation } from '../route.js';
import { CreateUserBody, CurrentUser, PageQuery, SignUpBody, UpdateUserBody, User, UsernameParams, pageOf } from '../schemas.js';

export function userRoutes(api: FastifyInstance, m: Management): void {
  const tag = 'Users';
  operation(api, {
    method: 'POST', url: '/signup', operationId: 'signUp', tag, public: true, status: 201,
    summary: 'Create a subscriber account (no credentials; the operator can turn self sign-up off; 429 past portal.signUpsPerHour from one address)',
    body: SignUpBody, response: User,
    handler: ({ body, request }) => m.users.signUp(body, { via: 'rest', address: request.ip }),
  });
  operation(api, {
    method: 'GET', url: '/me', operationId: 'getCurrentUser', tag, summary: 'Who the credentials belong to, and their role',
    response: CurrentUser,
    handler: async ({ actor }) => m.users.current(actor),
  });
  operation(api, {
    method: 'POST', url: '/users', operationId: 'createUser', tag, status: 201, summary: 'Create a user with a role (admin)',
    body: CreateUserBody, response: User,
    handler: ({ actor, body }) => m.users.create(actor, body),
  });
  operation(api, {
    method: 'GET', url: '/users', operationId: 'listUsers', tag, summary: 'List users by username (admin)',
    query: PageQuery, response: pageOf(User, 'users'),
    handler: ({ actor, query }) => m.users.list(actor, query),
  });
  operation(api, {
    method: 'GET', url: '/users/:username', operationId: 'getUser', tag, summary: 'One user (admin, or the user themselves)',
    params: UsernameParams, response: User,
    handler: ({ actor, params }) => m.users.show(actor, params.username),
  });
  operation(api, {
    method: 'PATCH', url: '/users/:username', operationId: 'updateUser', tag,
    summary: "Change a user's role or lock (admin) or password (admin, or the user); locking or a new password revokes the user's tokens",
    params: UsernameParams, body: UpdateUserBody, response: User,
    handler: ({ actor, params, body }) => m.users.update(actor, params.username, body),
  });
  operation(api, {
    method: 'DELETE', url: '/users/:username', operationId: 'deleteUser', tag, status: 204,
    summary: 'Remove a user with their applications, keys, subscriptions and tokens (admin)',
    params: UsernameParams,
    handler: ({ actor, params }) => m.users.remove(actor, params.username),
  });
}
