import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, PUB, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/** Issue 9: signUp, getCurrentUser, createUser, listUsers, getUser, updateUser, deleteUser over HTTP. */
let a: ApiServer;
beforeAll(async () => {
  a = await startApiServer();
});
afterAll(async () => a?.close());

describe('signUp', () => {
  it('creates a subscriber without credentials, who can then sign in', async () => {
    const user = ok(await a.rest('POST', '/signup', { body: { username: 'carol', password: 'carol-password' } }), 201);
    expect(user).toEqual({ username: 'carol', role: 'subscriber', locked: false, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(ok(await a.rest('GET', '/me', { as: { user: 'carol', password: 'carol-password' } }))).toEqual({ username: 'carol', role: 'subscriber' });
  });

  it('refuses a short password, a bad name, a duplicate and unknown fields, each with its field', async () => {
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'dave', password: 'short' } }), 400, /^the password is too short: use at least 8 characters/, 'password');
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'dave', password: 'dave' } }), 400, /too short/, 'password');
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'da ve', password: 'dave-password' } }), 400, /^invalid username "da ve"/, 'username');
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'alice', password: 'another-password' } }), 409, 'user "alice" already exists');
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'dave', password: 'dave-password', role: 'admin' } }), 400, 'unknown field role', 'role');
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'dave' } }), 400, 'missing field password', 'password');
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'dave', password: 12345678 } }), 400, 'field password must be string', 'password');
  });
});

describe('signUp and createUser: one name per spelling', () => {
  it('refuses a name that differs from an existing one only in case, through both', async () => {
    expectProblem(await a.rest('POST', '/signup', { body: { username: 'Alice', password: 'another-password' } }), 409, 'user "alice" already exists (names differ only in case are not allowed)');
    expectProblem(await a.rest('POST', '/users', { as: ROOT, body: { username: 'ROOT', password: 'another-password', role: 'admin' } }), 409, 'user "root" already exists (names differ only in case are not allowed)');
  });
});

describe('signUp: a budget per client address', () => {
  let b: ApiServer;
  beforeAll(async () => {
    b = await startApiServer('sqlite', { portal: { signUpsPerHour: 2 } });
  });
  afterAll(async () => b?.close());

  it('creates portal.signUpsPerHour accounts an hour from one address, then answers 429 with Retry-After; refusals do not count', async () => {
    expectProblem(await b.rest('POST', '/signup', { body: { username: 'nina', password: 'short' } }), 400, /too short/, 'password');
    ok(await b.rest('POST', '/signup', { body: { username: 'nina', password: 'nina-password' } }), 201);
    ok(await b.rest('POST', '/signup', { body: { username: 'oscar', password: 'oscar-password' } }), 201);
    const r = await b.rest('POST', '/signup', { body: { username: 'paula', password: 'paula-password' } });
    expectProblem(r, 429, 'too many accounts were created from your address; try again within the hour or ask an administrator for an account');
    expect(r.headers['retry-after']).toBe('3600');
    // An admin still creates accounts.
    ok(await b.rest('POST', '/users', { as: ROOT, body: { username: 'paula', password: 'paula-password' } }), 201);
  });
});

describe('getCurrentUser', () => {
  it('answers {username, role} for each role', async () => {
    expect(ok(await a.rest('GET', '/me', { as: ROOT }))).toEqual({ username: 'root', role: 'admin' });
    expect(ok(await a.rest('GET', '/me', { as: PUB }))).toEqual({ username: 'pub', role: 'publisher' });
    expect(ok(await a.rest('GET', '/me', { as: ALICE }))).toEqual({ username: 'alice', role: 'subscriber' });
  });

  it('is 401 with the challenges without credentials or with a wrong password', async () => {
    expectUnauthenticated(await a.rest('GET', '/me'));
    expectUnauthenticated(await a.rest('GET', '/me', { as: { user: 'bob', password: 'not-bobs-password' } }), 'Invalid username or password, or the account is locked.');
    expectUnauthenticated(await a.rest('GET', '/me', { as: { user: 'nobody', password: 'whatever-pw' } }), 'Invalid username or password, or the account is locked.');
    expectUnauthenticated(await a.rest('GET', '/me', { headers: { authorization: 'Digest username="bob"' } }), 'The Authorization header must be Basic or Bearer.');
  });
});

describe('createUser (admin)', () => {
  it('creates a user with the role asked for (default subscriber)', async () => {
    expect(ok(await a.rest('POST', '/users', { as: ROOT, body: { username: 'pub3', password: 'publisher3-pw', role: 'publisher' } }), 201)).toMatchObject({ username: 'pub3', role: 'publisher', locked: false });
    expect(ok(await a.rest('POST', '/users', { as: ROOT, body: { username: 'erin', password: 'erin-password' } }), 201)).toMatchObject({ username: 'erin', role: 'subscriber' });
  });

  it('is 403 for a publisher or a subscriber, 401 without credentials', async () => {
    const body = { username: 'mallory', password: 'mallory-pw', role: 'admin' };
    expectProblem(await a.rest('POST', '/users', { as: PUB, body }), 403, 'creating users needs the admin role; you are a publisher');
    expectProblem(await a.rest('POST', '/users', { as: ALICE, body }), 403, 'creating users needs the admin role; you are a subscriber');
    expectUnauthenticated(await a.rest('POST', '/users', { body }));
  });

  it('refuses an unknown role and a duplicate', async () => {
    expectProblem(await a.rest('POST', '/users', { as: ROOT, body: { username: 'frank', password: 'frank-password', role: 'owner' } }), 400, 'invalid role "owner": one of subscriber, publisher, admin', 'role');
    expectProblem(await a.rest('POST', '/users', { as: ROOT, body: { username: 'bob', password: 'frank-password' } }), 409, 'user "bob" already exists');
  });
});

describe('listUsers (admin), paged by username', () => {
  it('pages through every user: first page, next page, last page', async () => {
    const all = ok(await a.rest('GET', '/users?limit=200', { as: ROOT }));
    expect(all.next).toBeNull();
    const names: string[] = all.items.map((u: { username: string }) => u.username);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob', 'pub', 'pub2', 'root']));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { username: string }[]; next: string | null } = ok(await a.rest('GET', `/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: ROOT }));
      expect(page.items.length).toBe(Math.min(2, names.length - seen.length));
      seen.push(...page.items.map((u) => u.username));
      cursor = page.next;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual(names);
    expect(pages).toBe(Math.ceil(names.length / 2));
  });

  it('refuses a bad limit or cursor with 400', async () => {
    for (const q of ['limit=0', 'limit=201', 'limit=-1']) expectProblem(await a.rest('GET', `/users?${q}`, { as: ROOT }), 400, 'limit must be a whole number from 1 to 200', 'limit');
    expectProblem(await a.rest('GET', '/users?limit=ten', { as: ROOT }), 400, 'query parameter limit must be integer', 'limit');
    expectProblem(await a.rest('GET', '/users?cursor=not-a-cursor', { as: ROOT }), 400, 'the cursor is not one this list returned; start again without it', 'cursor');
    expectProblem(await a.rest('GET', '/users?page=2', { as: ROOT }), 400, 'unknown query parameter page', 'page');
  });

  it('is 403 below admin', async () => {
    expectProblem(await a.rest('GET', '/users', { as: PUB }), 403, 'listing users needs the admin role; you are a publisher');
    expectProblem(await a.rest('GET', '/users', { as: ALICE }), 403, 'listing users needs the admin role; you are a subscriber');
  });
});

describe('getUser', () => {
  it('shows a user to an admin and to themselves; another user is 404 (names do not leak)', async () => {
    expect(ok(await a.rest('GET', '/users/bob', { as: ROOT }))).toMatchObject({ username: 'bob', role: 'subscriber', locked: false });
    expect(ok(await a.rest('GET', '/users/bob', { as: BOB }))).toMatchObject({ username: 'bob' });
    expectProblem(await a.rest('GET', '/users/bob', { as: ALICE }), 404, 'no user "bob"');
    expectProblem(await a.rest('GET', '/users/nobody', { as: ALICE }), 404, 'no user "nobody"');
    expectProblem(await a.rest('GET', '/users/nobody', { as: ROOT }), 404, 'no user "nobody"');
  });
});

describe('updateUser', () => {
  it('an admin changes a role; the user then has it', async () => {
    await a.rest('POST', '/users', { as: ROOT, body: { username: 'gina', password: 'gina-password' } });
    expect(ok(await a.rest('PATCH', '/users/gina', { as: ROOT, body: { role: 'publisher' } }))).toMatchObject({ username: 'gina', role: 'publisher' });
    expect(ok(await a.rest('GET', '/me', { as: { user: 'gina', password: 'gina-password' } }))).toEqual({ username: 'gina', role: 'publisher' });
  });

  it('an admin locks a user (who can no longer sign in) and unlocks them', async () => {
    await a.rest('POST', '/users', { as: ROOT, body: { username: 'hank', password: 'hank-password' } });
    expect(ok(await a.rest('PATCH', '/users/hank', { as: ROOT, body: { locked: true } }))).toMatchObject({ locked: true });
    expectUnauthenticated(await a.rest('GET', '/me', { as: { user: 'hank', password: 'hank-password' } }), 'Invalid username or password, or the account is locked.');
    expect(ok(await a.rest('PATCH', '/users/hank', { as: ROOT, body: { locked: false } }))).toMatchObject({ locked: false });
    expect(ok(await a.rest('GET', '/me', { as: { user: 'hank', password: 'hank-password' } }))).toEqual({ username: 'hank', role: 'subscriber' });
  });

  it('a user changes their own password, never their role or lock; another user is 404', async () => {
    await a.rest('POST', '/users', { as: ROOT, body: { username: 'ivy', password: 'ivy-password' } });
    const ivy = { user: 'ivy', password: 'ivy-password' };
    expectProblem(await a.rest('PATCH', '/users/ivy', { as: ivy, body: { role: 'admin' } }), 403, 'changing a role or a lock needs the admin role');
    expectProblem(await a.rest('PATCH', '/users/ivy', { as: ivy, body: { locked: false } }), 403, 'changing a role or a lock needs the admin role');
    expectProblem(await a.rest('PATCH', '/users/bob', { as: ivy, body: { password: 'taken-over-pw' } }), 404, 'no user "bob"');
    expectProblem(await a.rest('PATCH', '/users/ivy', { as: ivy, body: { password: 'short' } }), 400, /too short/, 'password');
    expect(ok(await a.rest('PATCH', '/users/ivy', { as: ivy, body: { password: 'ivy-new-password' } }))).toMatchObject({ username: 'ivy' });
    expectUnauthenticated(await a.rest('GET', '/me', { as: ivy }), 'Invalid username or password, or the account is locked.');
    expect(ok(await a.rest('GET', '/me', { as: { user: 'ivy', password: 'ivy-new-password' } }))).toEqual({ username: 'ivy', role: 'subscriber' });
  });

  it('refuses an empty change, an unknown role, and demoting or locking the only admin', async () => {
    expectProblem(await a.rest('PATCH', '/users/bob', { as: ROOT, body: {} }), 400, 'nothing to change: give role, locked or password');
    expectProblem(await a.rest('PATCH', '/users/bob', { as: ROOT, body: { role: 'root' } }), 400, /^invalid role "root"/, 'role');
    expectProblem(await a.rest('PATCH', '/users/root', { as: ROOT, body: { role: 'publisher' } }), 409, '"root" is the only admin: create another admin before you demote or lock this one');
    expectProblem(await a.rest('PATCH', '/users/root', { as: ROOT, body: { locked: true } }), 409, '"root" is the only admin: create another admin before you demote or lock this one');
    expectProblem(await a.rest('PATCH', '/users/nobody', { as: ROOT, body: { locked: true } }), 404, 'no user "nobody"');
  });
});

describe('deleteUser (admin)', () => {
  it('removes a user with their applications; they can no longer sign in', async () => {
    await a.rest('POST', '/users', { as: ROOT, body: { username: 'jack', password: 'jack-password' } });
    const jack = { user: 'jack', password: 'jack-password' };
    const app = ok(await a.rest('POST', '/applications', { as: jack, body: { name: 'jacks-app' } }), 201);
    expect((await a.rest('DELETE', '/users/jack', { as: ROOT })).status).toBe(204);
    expectUnauthenticated(await a.rest('GET', '/me', { as: jack }), 'Invalid username or password, or the account is locked.');
    expectProblem(await a.rest('GET', `/applications/${app.id}`, { as: ROOT }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('DELETE', '/users/jack', { as: ROOT }), 404, 'no user "jack"');
  });

  it('is 403 below admin and 409 for the only admin', async () => {
    expectProblem(await a.rest('DELETE', '/users/bob', { as: PUB }), 403, 'removing users needs the admin role; you are a publisher');
    expectProblem(await a.rest('DELETE', '/users/bob', { as: BOB }), 403, 'removing users needs the admin role; you are a subscriber');
    expectProblem(await a.rest('DELETE', '/users/root', { as: ROOT }), 409, '"root" is the only admin: create another admin before you remove this one');
  });
});
