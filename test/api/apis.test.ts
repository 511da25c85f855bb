import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, PUB, PUB2, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/** Issue 9: createApi, listApis, getApi, updateApi, publishApi, retireApi, deleteApi. */
let a: ApiServer;
beforeAll(async () => {
  a = await startApiServer();
});
afterAll(async () => a?.close());

let n = 0;
const apiBody = (extra: Record<string, unknown> = {}) => {
  n++;
  return { name: `Weather${n}`, context: `/weather${n}`, version: 'v1', productionUrl: 'http://backend.internal:8080/v1', ...extra };
};
const createApi = async (extra: Record<string, unknown> = {}, as = PUB) => ok(await a.rest('POST', '/apis', { as, body: apiBody(extra) }), 201);

describe('createApi (publisher)', () => {
  it('creates an API in CREATED with every configured tier unless told', async () => {
    const api = await createApi();
    expect(api).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: `Weather${n}`, context: `/weather${n}`, version: 'v1', status: 'CREATED',
      productionUrl: 'http://backend.internal:8080/v1', sandboxUrl: null, tiers: ['Gold', 'Silver', 'Bronze', 'Unlimited'], timeoutMs: null, jwt: false,
      description: null, createdAt: expect.any(String),
    });
    const full = await createApi({ sandboxUrl: 'http://sandbox.internal/v1', tiers: ['Gold'], timeoutMs: 5000, jwt: true, description: 'forecasts' });
    expect(full).toMatchObject({ sandboxUrl: 'http://sandbox.internal/v1', tiers: ['Gold'], timeoutMs: 5000, jwt: true, description: 'forecasts' });
    // An empty sandbox URL is no sandbox, as in an update (and the portal's empty field).
    expect((await createApi({ sandboxUrl: '' })).sandboxUrl).toBeNull();
  });

  it('refuses bad fields and duplicates', async () => {
    expectProblem(await a.rest('POST', '/apis', { as: PUB, body: apiBody({ context: '/we ather' }) }), 400, /^invalid context "\/we ather"/, 'context');
    expectProblem(await a.rest('POST', '/apis', { as: PUB, body: apiBody({ context: '/token' }) }), 400, /^context "\/token" is reserved/, 'context');
    expectProblem(await a.rest('POST', '/apis', { as: PUB, body: apiBody({ productionUrl: 'ftp://x' }) }), 400, 'invalid productionUrl "ftp://x": only http and https backends', 'productionUrl');
    expectProblem(await a.rest('POST', '/apis', { as: PUB, body: apiBody({ tiers: ['Platinum'] }) }), 400, 'unknown tier "Platinum": configured tiers are Gold, Silver, Bronze, Unlimited', 'tiers');
    // as an application's tier: spaces around a name, or an empty one, are no tier
    expectProblem(await a.rest('POST', '/apis', { as: PUB, body: apiBody({ tiers: [' Gold', ''] }) }), 400, 'unknown tier " Gold", "": configured tiers are Gold, Silver, Bronze, Unlimited', 'tiers');
    expectProblem(await a.rest('POST', '/apis', { as: PUB, body: apiBody({ timeoutMs: 0 }) }), 400, 'invalid timeout "0": 1 to 600000 ms', 'timeoutMs');
    expectProblem(await a.rest('POST', '/apis', { as: PUB, body: apiBody({ name: 'a:b' }) }), 400, /^invalid API name "a:b"/, 'name');
    const api = await createApi();
    const dup = await a.rest('POST', '/apis', { as: PUB, body: { ...apiBody(), context: api.context } });
    expectProblem(dup, 409, `context ${api.context} with version v1 is already used by API ${api.name}:v1 (context ${api.context}, version v1); choose another context or version`, 'context');
    const sameName = await a.rest('POST', '/apis', { as: PUB, body: { ...apiBody(), name: api.name } });
    expectProblem(sameName, 409, /already exists$/);
  });

  it('is 403 for a subscriber, 401 without credentials', async () => {
    expectProblem(await a.rest('POST', '/apis', { as: ALICE, body: apiBody() }), 403, 'creating APIs needs the publisher role; you are a subscriber');
    expectUnauthenticated(await a.rest('POST', '/apis', { body: apiBody() }));
  });
});

describe('publishApi, retireApi and what subscribers see', () => {
  it('a subscriber sees an API only while it is published (404 otherwise); publishers see every status', async () => {
    const api = await createApi();
    expectProblem(await a.rest('GET', `/apis/${api.id}`, { as: ALICE }), 404, `no API ${api.id}`);
    expect(ok(await a.rest('GET', `/apis/${api.id}`, { as: PUB2 })).status).toBe('CREATED');
    expect(ok(await a.rest('POST', `/apis/${api.id}/publish`, { as: PUB })).status).toBe('PUBLISHED');
    expect(ok(await a.rest('GET', `/apis/${api.id}`, { as: ALICE })).status).toBe('PUBLISHED');
    const listed = ok(await a.rest('GET', '/apis?limit=200', { as: ALICE })).items.map((x: { id: string }) => x.id);
    expect(listed).toContain(api.id);
    // Another publisher may retire it: publishers share the APIs.
    expect(ok(await a.rest('POST', `/apis/${api.id}/retire`, { as: PUB2 })).status).toBe('RETIRED');
    expectProblem(await a.rest('GET', `/apis/${api.id}`, { as: ALICE }), 404, `no API ${api.id}`);
    expect(ok(await a.rest('GET', '/apis?limit=200', { as: ALICE })).items.map((x: { id: string }) => x.id)).not.toContain(api.id);
  });

  it('is 403 for a subscriber, 404 for an unknown API', async () => {
    const api = await createApi();
    expectProblem(await a.rest('POST', `/apis/${api.id}/publish`, { as: ALICE }), 403, 'publishing APIs needs the publisher role; you are a subscriber');
    expectProblem(await a.rest('POST', `/apis/${api.id}/retire`, { as: ALICE }), 403, 'retiring APIs needs the publisher role; you are a subscriber');
    expectProblem(await a.rest('POST', '/apis/nope/publish', { as: PUB }), 404, 'no API nope');
  });
});

describe('listApis', () => {
  it('pages: first, next, last; publishers see all statuses, subscribers the published only', async () => {
    const everything = ok(await a.rest('GET', '/apis?limit=200', { as: ROOT })).items;
    const p1 = ok(await a.rest('GET', '/apis?limit=3', { as: PUB }));
    expect(p1.items).toHaveLength(3);
    const rest: unknown[] = [];
    let cursor = p1.next;
    let pages = 1;
    while (cursor) {
      const p = ok(await a.rest('GET', `/apis?limit=3&cursor=${cursor}`, { as: PUB }));
      rest.push(...p.items);
      cursor = p.next;
      pages++;
    }
    expect([...p1.items, ...rest]).toEqual(everything);
    expect(pages).toBe(Math.ceil(everything.length / 3));
    const published = ok(await a.rest('GET', '/apis?limit=200', { as: ALICE })).items;
    expect(published.map((x: { status: string }) => x.status)).toEqual(published.map(() => 'PUBLISHED'));
    expectProblem(await a.rest('GET', '/apis?limit=0', { as: PUB }), 400, 'limit must be a whole number from 1 to 200', 'limit');
  });
});

describe('updateApi', () => {
  it('changes backends, tiers, timeout and the JWT switch', async () => {
    const api = await createApi();
    const changed = ok(await a.rest('PATCH', `/apis/${api.id}`, { as: PUB, body: { productionUrl: 'https://new.internal/v2', tiers: ['Gold', 'Bronze'], timeoutMs: 1000, jwt: true, sandboxUrl: null } }));
    expect(changed).toMatchObject({ productionUrl: 'https://new.internal/v2', tiers: ['Gold', 'Bronze'], timeoutMs: 1000, jwt: true, sandboxUrl: null });
    expect(ok(await a.rest('GET', `/apis/${api.id}`, { as: ROOT }))).toMatchObject({ tiers: ['Gold', 'Bronze'], jwt: true });
  });

  it("changes the name, context and version too, as the document's summary says", async () => {
    const api = await createApi();
    const changed = ok(await a.rest('PATCH', `/apis/${api.id}`, { as: PUB, body: { name: `Renamed${n}`, context: `/renamed${n}`, version: 'v9' } }));
    expect(changed).toMatchObject({ name: `Renamed${n}`, context: `/renamed${n}`, version: 'v9' });
    const doc = (await a.rest('GET', '/openapi.json')).json;
    const op = doc.paths['/api/v1/apis/{apiId}'].patch;
    expect(op.summary).toBe("Change an API's name, context, version, backends, tiers, timeout, JWT switch or description (publisher)");
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties)).toEqual(['name', 'context', 'version', 'productionUrl', 'sandboxUrl', 'tiers', 'timeoutMs', 'jwt', 'description']);
  });

  it('refuses an empty change, bad values, and dropping a tier a subscription uses (409)', async () => {
    const api = await createApi();
    expectProblem(await a.rest('PATCH', `/apis/${api.id}`, { as: PUB, body: {} }), 400, 'nothing to change');
    expectProblem(await a.rest('PATCH', `/apis/${api.id}`, { as: PUB, body: { tiers: [] } }), 400, 'give at least one tier: configured tiers are Gold, Silver, Bronze, Unlimited', 'tiers');
    expectProblem(await a.rest('PATCH', `/apis/${api.id}`, { as: PUB, body: { status: 'PUBLISHED' } }), 400, 'unknown field status', 'status');
    await a.rest('POST', `/apis/${api.id}/publish`, { as: PUB });
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: `tiered-${n}` } }), 201);
    ok(await a.rest('POST', '/subscriptions', { as: ALICE, body: { applicationId: app.id, apiId: api.id, tier: 'Gold' } }), 201);
    expectProblem(await a.rest('PATCH', `/apis/${api.id}`, { as: PUB, body: { tiers: ['Silver'] } }), 409, `1 subscription(s) of ${api.name}:v1 use a tier you are removing (Gold, Bronze, Unlimited); change or remove them first`);
  });

  it('is 403 for a subscriber even on a published API', async () => {
    const api = await createApi();
    await a.rest('POST', `/apis/${api.id}/publish`, { as: PUB });
    expectProblem(await a.rest('PATCH', `/apis/${api.id}`, { as: ALICE, body: { jwt: true } }), 403, 'changing APIs needs the publisher role; you are a subscriber');
  });
});

describe('deleteApi', () => {
  it('deletes an API nothing subscribes to; one with subscriptions is 409', async () => {
    const api = await createApi();
    expect((await a.rest('DELETE', `/apis/${api.id}`, { as: PUB })).status).toBe(204);
    expectProblem(await a.rest('GET', `/apis/${api.id}`, { as: PUB }), 404, `no API ${api.id}`);
    expectProblem(await a.rest('DELETE', `/apis/${api.id}`, { as: PUB }), 404, `no API ${api.id}`);

    const used = await createApi();
    await a.rest('POST', `/apis/${used.id}/publish`, { as: PUB });
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: `user-of-${n}` } }), 201);
    ok(await a.rest('POST', '/subscriptions', { as: ALICE, body: { applicationId: app.id, apiId: used.id, tier: 'Gold' } }), 201);
    expectProblem(await a.rest('DELETE', `/apis/${used.id}`, { as: PUB }), 409, `API ${used.name}:v1 has 1 subscription(s): remove them first (or retire the API)`);
    expectProblem(await a.rest('DELETE', `/apis/${used.id}`, { as: ALICE }), 403, 'deleting APIs needs the publisher role; you are a subscriber');
  });
});
