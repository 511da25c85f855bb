import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { DB_KINDS, dbAvailable } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { ALICE, PUB, expectProblem, ok, startApiServer, type ApiServer } from './support.js';

/**
 * Every API the admin API accepts can be called through the gateway, and no API's route takes
 * another's calls: a context deeper than the gateway routes is 400, a route overlapping
 * another API's is 409 naming it. On SQLite and on PostgreSQL (the route check holds a lock of
 * each database's own kind).
 */
for (const kind of DB_KINDS) {
  describe.skipIf(!(await dbAvailable(kind)))(`API routes on ${kind}`, () => {
    let a: ApiServer;
    let backend: TestBackend;
    let app: { id: string };
    let token: string;
    beforeAll(async () => {
      backend = await startBackend('routes');
      a = await startApiServer(kind, { gateway: { apiCacheTtl: 0 } });
      app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'routes-app' } }), 201);
      const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE }), 201);
      const t = await postForm(`${a.s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(keys.consumerKey, keys.consumerSecret) });
      expect(t.status, t.text).toBe(200);
      token = t.json.access_token;
    });
    afterAll(async () => {
      await a?.close();
      await backend?.close();
    });

    const body = (name: string, context: string, version: string) => ({ name, context, version, productionUrl: `${backend.url}/${name}`, tiers: ['Gold'] });
    const create = (name: string, context: string, version: string) => a.rest('POST', '/apis', { as: PUB, body: body(name, context, version) });
    /** Creates, publishes and subscribes alice's application to an API. */
    const live = async (name: string, context: string, version: string) => {
      const api = ok(await create(name, context, version), 201);
      ok(await a.rest('POST', `/apis/${api.id}/publish`, { as: PUB }));
      ok(await a.rest('POST', '/subscriptions', { as: ALICE, body: { applicationId: app.id, apiId: api.id, tier: 'Gold' } }), 201);
      return api;
    };
    /** A gateway call with alice's token: the status and the path the backend saw. */
    const callGateway = async (path: string) => {
      const r = await call(`${a.s.https}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, saw: r.status === 200 ? (r.json.url as string) : r.text };
    };
    const names = async () => ok(await a.rest('GET', '/apis?limit=200', { as: PUB })).items.map((x: { name: string }) => x.name);

    it('a context deeper than the gateway routes is 400 naming the limit; one as deep as it routes is called', async () => {
      expectProblem(
        await create('TooDeep', '/a/b/c/d/e', 'v1'),
        400,
        'context "/a/b/c/d/e" has 5 path segments: the gateway routes contexts of at most 4 (such as /partners/eu/weather/daily), so calls to this one would never reach it',
        'context',
      );
      expect(await names()).not.toContain('TooDeep');
      const deep = await live('Deep', '/a/b/c/d', 'v1');
      expect(await callGateway('/a/b/c/d/v1/x')).toEqual({ status: 200, saw: '/Deep/x' });
      expectProblem(await a.rest('PATCH', `/apis/${deep.id}`, { as: PUB, body: { context: '/a/b/c/d/e' } }), 400, /^context "\/a\/b\/c\/d\/e" has 5 path segments/, 'context');
    });

    it("a route that would take another API's calls is 409 naming that API; the other API keeps its calls", async () => {
      await live('Nested', '/p/weather', 'v1');
      const shadow = await create('Shadow', '/p', 'weather');
      expectProblem(
        shadow,
        409,
        'context /p with version weather overlaps API Nested:v1 (context /p/weather, version v1): the gateway would send every call to /p/weather/v1/… to this API, so Nested:v1 could never be reached; choose another context or version',
        'context',
      );
      expect(await names()).not.toContain('Shadow');
      expect(await callGateway('/p/weather/v1/x')).toEqual({ status: 200, saw: '/Nested/x' });
      // the other way round: a route an existing API already takes
      await live('Outer', '/q', 'v2');
      expectProblem(await create('Inner', '/q/v2', 'v1'), 409, /^context \/q\/v2 with version v1 overlaps API Outer:v2 \(context \/q, version v2\): the gateway sends every call to \/q\/v2\/v1\/… to Outer:v2, so this API could never be reached/, 'context');
      expectProblem(await create('Same', '/q', 'v2'), 409, 'context /q with version v2 is already used by API Outer:v2 (context /q, version v2); choose another context or version', 'context');
    });

    it('routes that only share a start are accepted, and each is called', async () => {
      await live('Near1', '/n', 'v1');
      await live('Near2', '/n/weather', 'v1');
      await live('Near3', '/n/v2', 'v1');
      expect(await callGateway('/n/v1/x')).toEqual({ status: 200, saw: '/Near1/x' });
      expect(await callGateway('/n/weather/v1/x')).toEqual({ status: 200, saw: '/Near2/x' });
      expect(await callGateway('/n/v2/v1/x')).toEqual({ status: 200, saw: '/Near3/x' });
    });

    it('an update moving an API onto an overlapping route is 409 on the field it changes', async () => {
      const mover = ok(await create('Mover', '/m', 'v1'), 201);
      await live('Target', '/t/weather', 'v1');
      expectProblem(await a.rest('PATCH', `/apis/${mover.id}`, { as: PUB, body: { context: '/t', version: 'weather' } }), 409, /^context \/t with version weather overlaps API Target:v1/, 'context');
      const parked = ok(await create('Parked', '/t', 'v9'), 201);
      expectProblem(await a.rest('PATCH', `/apis/${parked.id}`, { as: PUB, body: { version: 'weather' } }), 409, /^context \/t with version weather overlaps API Target:v1/, 'version');
      expect(ok(await a.rest('GET', `/apis/${mover.id}`, { as: PUB }))).toMatchObject({ context: '/m', version: 'v1' });
      expect(ok(await a.rest('PATCH', `/apis/${mover.id}`, { as: PUB, body: { context: '/m2', version: 'v1' } }))).toMatchObject({ context: '/m2' });
    });

    it('two overlapping APIs stored before the rule are left as they are; no third joins them', async () => {
      // as an upgraded database may hold them: written straight to the store, past the service
      const stored = (name: string, context: string, version: string) =>
        a.s.server.store.apis.create({ name, context, version, productionUrl: `${backend.url}/${name}`, tiers: ['Gold'], sendJwt: false, status: 'PUBLISHED', description: null });
      const old = await stored('OldShort', '/old', 'weather');
      await stored('OldLong', '/old/weather', 'v1');
      // an edit that keeps the route (the portal sends context and version with every save) goes through
      expect(ok(await a.rest('PATCH', `/apis/${old.id}`, { as: PUB, body: { context: '/old', version: 'weather', description: 'kept' } }))).toMatchObject({ description: 'kept' });
      expectProblem(await create('OldThird', '/old/weather/v1', 'v1'), 409, /overlaps API Old(Short:weather|Long:v1)/);
    });

    it('overlapping APIs created at the same moment: exactly one of each pair is created', async () => {
      const pairs = await Promise.all(
        Array.from({ length: 6 }, (_, i) => Promise.all([create(`RaceShort${i}`, `/race${i}`, 'weather'), create(`RaceLong${i}`, `/race${i}/weather`, 'v1')])),
      );
      for (const [short, long] of pairs) expect([short.status, long.status].sort()).toEqual([201, 409]);
    });
  });
}
