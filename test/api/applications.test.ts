import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, PUB, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/** Issue 9: createApplication, listApplications, getApplication, updateApplication, deleteApplication. */
let a: ApiServer;
beforeAll(async () => {
  a = await startApiServer();
});
afterAll(async () => a?.close());

const create = async (as: typeof ALICE, body: Record<string, unknown>) => ok(await a.rest('POST', '/applications', { as, body }), 201);

describe('createApplication', () => {
  it("creates the caller's application with the defaults", async () => {
    const app = await create(ALICE, { name: 'weather-app' });
    expect(app).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'weather-app', owner: 'alice', tier: 'Unlimited', callbackUrls: [], description: null,
      allowedOrigins: [], introspectAll: false, createdAt: expect.stringMatching(/^\d{4}-/),
    });
  });

  it('takes callback URLs, a tier and a description', async () => {
    const app = await create(ALICE, { name: 'with-callbacks', callbackUrls: ['https://app.example.com/cb', 'http://127.0.0.1:8080/cb'], tier: 'Gold', description: 'mine' });
    expect(app).toMatchObject({ callbackUrls: ['https://app.example.com/cb', 'http://127.0.0.1:8080/cb'], tier: 'Gold', description: 'mine' });
  });

  it('refuses a bad callback URL, an unknown tier and a duplicate name', async () => {
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'x', callbackUrls: ['http://app.example.com/cb'] } }), 400, /^invalid callback URL "http:\/\/app.example.com\/cb": use https/, 'callbackUrls');
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'x', callbackUrls: ['https://app.example.com/cb#frag'] } }), 400, /may not contain a fragment/, 'callbackUrls');
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'x', tier: 'Platinum' } }), 400, 'unknown tier "Platinum": configured tiers are Gold, Silver, Bronze, Unlimited', 'tier');
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'weather-app' } }), 409, 'user "alice" already has an application named "weather-app"');
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: ' padded' } }), 400, /^invalid application name/, 'name');
    // a lone surrogate would be stored as U+FFFD: "\ud800" and "\udfff" would read back as one name
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: '\ud800' } }), 400, 'invalid application name "?": 1 to 100 printable characters, no leading or trailing space', 'name');
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'ok', description: 'x\udfff' } }), 400, /lone surrogate/, 'description');
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { nmae: 'typo' } }), 400, 'missing field name', 'name');
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'n', callbackUrls: 'https://x.example' } }), 400, 'field callbackUrls must be array', 'callbackUrls');
    // Another subscriber may use the same name.
    expect(await create(BOB, { name: 'weather-app' })).toMatchObject({ owner: 'bob' });
  });

  it('only an admin names another owner or makes a resource server', async () => {
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'for-bob', owner: 'bob' } }), 403, 'creating an application for another user needs the admin role');
    expectProblem(await a.rest('POST', '/applications', { as: PUB, body: { name: 'rs', introspectAll: true } }), 403, 'only an admin may make an application a resource server (introspectAll)');
    expect(await create(ROOT, { name: 'for-bob', owner: 'bob', introspectAll: true })).toMatchObject({ owner: 'bob', introspectAll: true });
    expectProblem(await a.rest('POST', '/applications', { as: ROOT, body: { name: 'ghost', owner: 'nobody' } }), 404, 'no user "nobody"');
  });

  it('is 401 without credentials', async () => {
    expectUnauthenticated(await a.rest('POST', '/applications', { body: { name: 'anon' } }));
  });
});

describe('listApplications', () => {
  it("a subscriber sees their own only; asking for another owner's is 403", async () => {
    const mine = ok(await a.rest('GET', '/applications', { as: ALICE }));
    expect(mine.items.map((x: { owner: string }) => x.owner)).toEqual(mine.items.map(() => 'alice'));
    expect(mine.items.map((x: { name: string }) => x.name)).toEqual(['weather-app', 'with-callbacks']);
    expect(ok(await a.rest('GET', '/applications?owner=alice', { as: ALICE })).items).toHaveLength(2);
    expectProblem(await a.rest('GET', '/applications?owner=bob', { as: ALICE }), 403, "listing another user's applications needs the admin role");
  });

  it("an admin sees everyone's, or one owner's", async () => {
    const bobs = ok(await a.rest('GET', '/applications?owner=bob', { as: ROOT }));
    expect(bobs.items.map((x: { name: string }) => x.name).sort()).toEqual(['for-bob', 'weather-app']);
    const all = ok(await a.rest('GET', '/applications?limit=200', { as: ROOT }));
    expect(all.items.length).toBeGreaterThanOrEqual(4);
  });

  it('pages: first, next and last page, then a bad limit', async () => {
    for (let i = 0; i < 3; i++) await create(BOB, { name: `paged-${i}` });
    const names = ok(await a.rest('GET', '/applications?limit=200', { as: BOB })).items.map((x: { name: string }) => x.name);
    expect(names).toHaveLength(5);
    const p1 = ok(await a.rest('GET', '/applications?limit=2', { as: BOB }));
    const p2 = ok(await a.rest('GET', `/applications?limit=2&cursor=${p1.next}`, { as: BOB }));
    const p3 = ok(await a.rest('GET', `/applications?limit=2&cursor=${p2.next}`, { as: BOB }));
    expect([p1, p2, p3].map((p) => p.items.length)).toEqual([2, 2, 1]);
    expect(p3.next).toBeNull();
    expect([...p1.items, ...p2.items, ...p3.items].map((x: { name: string }) => x.name)).toEqual(names);
    expectProblem(await a.rest('GET', '/applications?limit=1000', { as: BOB }), 400, 'limit must be a whole number from 1 to 200', 'limit');
    expectProblem(await a.rest('GET', '/applications?cursor=%7B%7D', { as: BOB }), 400, 'the cursor is not one this list returned; start again without it', 'cursor');
  });
});

describe('getApplication', () => {
  it('shows an application with its keys (never a secret) to its owner and an admin', async () => {
    const app = await create(ALICE, { name: 'shown' });
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
    const shown = ok(await a.rest('GET', `/applications/${app.id}`, { as: ALICE }));
    expect(shown).toMatchObject({ id: app.id, name: 'shown', keys: [{ consumerKey: keys.consumerKey, keyType: 'PRODUCTION', public: false, validitySeconds: null }] });
    expect(JSON.stringify(shown)).not.toContain(keys.consumerSecret);
    expect(ok(await a.rest('GET', `/applications/${app.id}`, { as: ROOT })).owner).toBe('alice');
  });

  it("another subscriber's application is 404 (not 403), like one that does not exist; a publisher is no admin", async () => {
    const app = await create(ALICE, { name: 'private' });
    expectProblem(await a.rest('GET', `/applications/${app.id}`, { as: BOB }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('GET', `/applications/${app.id}`, { as: PUB }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('GET', '/applications/00000000-0000-0000-0000-000000000000', { as: ROOT }), 404, 'no application 00000000-0000-0000-0000-000000000000');
  });
});

describe('updateApplication', () => {
  it('changes name, callback URLs, tier and description', async () => {
    const app = await create(ALICE, { name: 'to-change' });
    const changed = ok(await a.rest('PATCH', `/applications/${app.id}`, { as: ALICE, body: { name: 'changed', callbackUrls: ['https://new.example/cb'], tier: 'Bronze', description: null } }));
    expect(changed).toMatchObject({ id: app.id, name: 'changed', callbackUrls: ['https://new.example/cb'], tier: 'Bronze', description: null });
    expect(ok(await a.rest('GET', `/applications/${app.id}`, { as: ALICE }))).toMatchObject({ name: 'changed', tier: 'Bronze' });
  });

  it('refuses what createApplication refuses, and an empty change', async () => {
    const app = await create(ALICE, { name: 'strict' });
    expectProblem(await a.rest('PATCH', `/applications/${app.id}`, { as: ALICE, body: { callbackUrls: ['app.example.com/cb'] } }), 400, 'invalid callback URL "app.example.com/cb": it must be an absolute URL such as https://app.example.com/callback', 'callbackUrls');
    expectProblem(await a.rest('PATCH', `/applications/${app.id}`, { as: ALICE, body: { tier: 'Platinum' } }), 400, /^unknown tier "Platinum"/, 'tier');
    expectProblem(await a.rest('PATCH', `/applications/${app.id}`, { as: ALICE, body: { name: 'weather-app' } }), 409, 'user "alice" already has an application named "weather-app"', 'name');
    expectProblem(await a.rest('PATCH', `/applications/${app.id}`, { as: ALICE, body: {} }), 400, 'nothing to change: give name, tier, callbackUrls, allowedOrigins, description or introspectAll');
    expectProblem(await a.rest('PATCH', `/applications/${app.id}`, { as: ALICE, body: { introspectAll: true } }), 403, 'only an admin may make an application a resource server (introspectAll)');
    expectProblem(await a.rest('PATCH', `/applications/${app.id}`, { as: ALICE, body: { owner: 'bob' } }), 400, 'unknown field owner', 'owner');
  });

  it("another subscriber's application is 404", async () => {
    const app = await create(ALICE, { name: 'not-bobs' });
    expectProblem(await a.rest('PATCH', `/applications/${app.id}`, { as: BOB, body: { tier: 'Gold' } }), 404, `no application ${app.id}`);
    expect(ok(await a.rest('GET', `/applications/${app.id}`, { as: ALICE })).tier).toBe('Unlimited');
  });
});

describe('deleteApplication', () => {
  it('deletes with 204; it is gone after; another subscriber gets 404 and changes nothing', async () => {
    const app = await create(ALICE, { name: 'doomed' });
    expectProblem(await a.rest('DELETE', `/applications/${app.id}`, { as: BOB }), 404, `no application ${app.id}`);
    expect(ok(await a.rest('GET', `/applications/${app.id}`, { as: ALICE })).name).toBe('doomed');
    const del = await a.rest('DELETE', `/applications/${app.id}`, { as: ALICE });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expectProblem(await a.rest('GET', `/applications/${app.id}`, { as: ALICE }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('DELETE', `/applications/${app.id}`, { as: ALICE }), 404, `no application ${app.id}`);
  });

  it("an admin deletes anyone's", async () => {
    const app = await create(BOB, { name: 'admin-deletes' });
    expect((await a.rest('DELETE', `/applications/${app.id}`, { as: ROOT })).status).toBe(204);
  });
});
