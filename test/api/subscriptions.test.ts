import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, dbAvailable } from '../support/databases.js';
import { ALICE, BOB, PUB, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/**
 * Issue 9: createSubscription, listSubscriptions, getSubscription, blockSubscription,
 * unblockSubscription, deleteSubscription — on SQLite and on PostgreSQL (the store's paging
 * and its uniqueness constraints are the database's).
 */
for (const kind of DB_KINDS) {
  describe.skipIf(!(await dbAvailable(kind)))(`subscriptions on ${kind}`, () => {
    let a: ApiServer;
    let api: { id: string; name: string };
    let retired: { id: string };
    let aliceApp: { id: string; name: string };
    let bobApp: { id: string };
    beforeAll(async () => {
      a = await startApiServer(kind);
      api = ok(await a.rest('POST', '/apis', { as: PUB, body: { name: 'Weather', context: '/weather', version: 'v1', productionUrl: 'http://backend.internal/v1', tiers: ['Gold', 'Bronze'] } }), 201);
      await a.rest('POST', `/apis/${api.id}/publish`, { as: PUB });
      retired = ok(await a.rest('POST', '/apis', { as: PUB, body: { name: 'Old', context: '/old', version: 'v1', productionUrl: 'http://backend.internal/v0' } }), 201);
      await a.rest('POST', `/apis/${retired.id}/retire`, { as: PUB });
      aliceApp = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'alice-app' } }), 201);
      bobApp = ok(await a.rest('POST', '/applications', { as: BOB, body: { name: 'bob-app' } }), 201);
    });
    afterAll(async () => a?.close());

    const subscribe = (as: typeof ALICE, applicationId: string, apiId: string, tier = 'Gold') => a.rest('POST', '/subscriptions', { as, body: { applicationId, apiId, tier } });

    it('subscribes an own application to a published API: {applicationId, apiId, tier, status}', async () => {
      const sub = ok(await subscribe(ALICE, aliceApp.id, api.id), 201);
      expect(sub).toEqual({
        id: expect.any(String), applicationId: aliceApp.id, apiId: api.id, tier: 'Gold', status: 'ACTIVE',
        applicationName: 'alice-app', owner: 'alice', apiName: 'Weather', apiVersion: 'v1', createdAt: expect.any(String),
      });
      expect(ok(await a.rest('GET', `/subscriptions/${sub.id}`, { as: ALICE }))).toEqual(sub);
    });

    it('refuses a duplicate (409), a tier the API does not offer, a retired API', async () => {
      expectProblem(await subscribe(ALICE, aliceApp.id, api.id), 409, 'the application is already subscribed to this API');
      expectProblem(await subscribe(BOB, bobApp.id, api.id, 'Silver'), 400, 'API Weather:v1 does not offer tier "Silver" (it offers Gold, Bronze)', 'tier');
      expectProblem(await subscribe(ROOT, bobApp.id, retired.id), 400, 'API Old:v1 is retired: it cannot be subscribed to', 'apiId');
    });

    it("without a tier: the API's first (the service's default; the document does not require it)", async () => {
      const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'alice-untiered' } }), 201);
      const sub = ok(await a.rest('POST', '/subscriptions', { as: ALICE, body: { applicationId: app.id, apiId: api.id } }), 201);
      expect(sub).toMatchObject({ applicationId: app.id, apiId: api.id, tier: 'Gold', status: 'ACTIVE' });
      const doc = (await a.rest('GET', '/openapi.json')).json;
      const body = doc.paths['/api/v1/subscriptions'].post.requestBody.content['application/json'].schema;
      expect(body.required).toEqual(['applicationId', 'apiId']);
      expect(Object.keys(body.properties)).toEqual(['applicationId', 'apiId', 'tier']);
      // removed again, so the lists below see the subscriptions they expect
      expect((await a.rest('DELETE', `/subscriptions/${sub.id}`, { as: ALICE })).status).toBe(204);
      expect((await a.rest('DELETE', `/applications/${app.id}`, { as: ALICE })).status).toBe(204);
    });

    it("another subscriber's application is 404, an unpublished API is 404 to a subscriber", async () => {
      expectProblem(await subscribe(BOB, aliceApp.id, api.id), 404, `no application ${aliceApp.id}`);
      expectProblem(await subscribe(BOB, bobApp.id, retired.id), 404, `no API ${retired.id}`);
      expectUnauthenticated(await subscribe(undefined as never, bobApp.id, api.id));
    });

    it("lists by application (owner, admin), by API (publishers), or the caller's own", async () => {
      ok(await subscribe(BOB, bobApp.id, api.id, 'Bronze'), 201);
      const alices = ok(await a.rest('GET', '/subscriptions', { as: ALICE }));
      expect(alices.items.map((s: { owner: string }) => s.owner)).toEqual(['alice']);
      expect(ok(await a.rest('GET', `/subscriptions?applicationId=${aliceApp.id}`, { as: ROOT })).items).toHaveLength(1);
      const byApi = ok(await a.rest('GET', `/subscriptions?apiId=${api.id}`, { as: PUB }));
      expect(byApi.items.map((s: { owner: string }) => s.owner).sort()).toEqual(['alice', 'bob']);
      expect(ok(await a.rest('GET', '/subscriptions', { as: ROOT })).items).toHaveLength(2);
      expectProblem(await a.rest('GET', `/subscriptions?apiId=${api.id}`, { as: ALICE }), 403, "listing an API's subscribers needs the publisher role");
      expectProblem(await a.rest('GET', `/subscriptions?applicationId=${aliceApp.id}`, { as: BOB }), 404, `no application ${aliceApp.id}`);
      expectProblem(await a.rest('GET', '/subscriptions?tier=Gold', { as: ROOT }), 400, 'unknown query parameter tier', 'tier');
    });

    it('pages: first, next and last page; bad limit 400', async () => {
      for (let i = 0; i < 3; i++) {
        const extra = ok(await a.rest('POST', '/apis', { as: PUB, body: { name: `Paged${i}`, context: `/paged${i}`, version: 'v1', productionUrl: 'http://backend.internal/p' } }), 201);
        await a.rest('POST', `/apis/${extra.id}/publish`, { as: PUB });
        ok(await subscribe(ALICE, aliceApp.id, extra.id, 'Gold'), 201);
      }
      const all = ok(await a.rest('GET', `/subscriptions?applicationId=${aliceApp.id}&limit=200`, { as: ALICE })).items;
      expect(all).toHaveLength(4);
      const p1 = ok(await a.rest('GET', `/subscriptions?applicationId=${aliceApp.id}&limit=3`, { as: ALICE }));
      const p2 = ok(await a.rest('GET', `/subscriptions?applicationId=${aliceApp.id}&limit=3&cursor=${p1.next}`, { as: ALICE }));
      expect([p1.items.length, p2.items.length, p2.next]).toEqual([3, 1, null]);
      expect([...p1.items, ...p2.items]).toEqual(all);
      expectProblem(await a.rest('GET', '/subscriptions?limit=201', { as: ALICE }), 400, 'limit must be a whole number from 1 to 200', 'limit');
      expectProblem(await a.rest('GET', '/subscriptions?cursor=bm9wZQ', { as: ALICE }), 400, 'the cursor is not one this list returned; start again without it', 'cursor');
    });

    it('a publisher blocks and unblocks; a subscriber may not (403), even their own', async () => {
      const [sub] = ok(await a.rest('GET', `/subscriptions?applicationId=${aliceApp.id}&limit=1`, { as: ALICE })).items;
      expectProblem(await a.rest('POST', `/subscriptions/${sub.id}/block`, { as: ALICE }), 403, 'blocking subscriptions needs the publisher role; you are a subscriber');
      expect(ok(await a.rest('POST', `/subscriptions/${sub.id}/block`, { as: PUB })).status).toBe('BLOCKED');
      expect(ok(await a.rest('GET', `/subscriptions/${sub.id}`, { as: ALICE })).status).toBe('BLOCKED');
      // Its owner cannot remove it (and subscribe again, undoing the block).
      expectProblem(await a.rest('DELETE', `/subscriptions/${sub.id}`, { as: ALICE }), 403, new RegExp(`^the subscription of ${sub.applicationName} to ${sub.apiName}:${sub.apiVersion} is blocked by a publisher: only a publisher or an admin may remove it$`));
      expect(ok(await a.rest('GET', `/subscriptions/${sub.id}`, { as: ALICE })).status).toBe('BLOCKED');
      expectProblem(await a.rest('POST', `/subscriptions/${sub.id}/unblock`, { as: ALICE }), 403, 'unblocking subscriptions needs the publisher role; you are a subscriber');
      expect(ok(await a.rest('POST', `/subscriptions/${sub.id}/unblock`, { as: ROOT })).status).toBe('ACTIVE');
      expectProblem(await a.rest('POST', '/subscriptions/nope/block', { as: PUB }), 404, 'no subscription nope');
    });

    it("the owner removes a subscription; another subscriber's is 404", async () => {
      const [sub] = ok(await a.rest('GET', `/subscriptions?applicationId=${bobApp.id}`, { as: BOB })).items;
      expectProblem(await a.rest('GET', `/subscriptions/${sub.id}`, { as: ALICE }), 404, `no subscription ${sub.id}`);
      expectProblem(await a.rest('DELETE', `/subscriptions/${sub.id}`, { as: ALICE }), 404, `no subscription ${sub.id}`);
      expect((await a.rest('DELETE', `/subscriptions/${sub.id}`, { as: BOB })).status).toBe(204);
      expectProblem(await a.rest('GET', `/subscriptions/${sub.id}`, { as: BOB }), 404, `no subscription ${sub.id}`);
      // a publisher may remove any subscription of an API (the README's role table)
      const [alices] = ok(await a.rest('GET', `/subscriptions?applicationId=${aliceApp.id}&limit=1`, { as: ALICE })).items;
      expect((await a.rest('DELETE', `/subscriptions/${alices.id}`, { as: PUB })).status).toBe(204);
      expectProblem(await a.rest('GET', `/subscriptions/${alices.id}`, { as: ALICE }), 404, `no subscription ${alices.id}`);
    });
  });
}
