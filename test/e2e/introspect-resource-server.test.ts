import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouse } from '../support/cli.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { addUser, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();

/** Issue 12 item 7: an application an admin marks as a resource server introspects every access token. */
describe.each(kinds)('introspection by resource servers (%s)', (kind) => {
  let s: TestServer;
  let app: TestClient;
  let rs: TestClient;
  let other: TestClient;
  let tokens: { access_token: string; refresh_token: string };
  const introspect = async (token: string, c: TestClient) => (await postForm(`${s.https}/introspect`, { token }, { authorization: basic(c.consumerKey, c.consumerSecret) })).json;
  const cliEnv = () => (s.db.database.url ? { GATEHOUSE_DATABASE_URL: s.db.database.url, GATEHOUSE_DATABASE_SCHEMA: s.db.database.schema! } : {});

  beforeAll(async () => {
    s = await startTestServer(kind);
    app = await createClient(s, { owner: 'alice', password: 'alice password', app: 'mobile' });
    rs = await createClient(s, { owner: 'ops', password: 'ops password', app: 'orders-service' });
    other = await createClient(s, { owner: 'bob', password: 'bob password', app: 'bobs' });
    await addUser(s, 'root', 'root-password', 'admin');
    tokens = (await postForm(`${s.https}/token`, { grant_type: 'password', username: 'alice', password: 'alice password' }, { authorization: basic(app.consumerKey, app.consumerSecret) })).json;
  });
  afterAll(async () => s?.close());

  it("by default another application's token is inactive to it, as before", async () => {
    expect(await introspect(tokens.access_token, rs)).toEqual({ active: false });
    expect((await introspect(tokens.access_token, app)).active).toBe(true);
  });

  it('marked as a resource server with the CLI: every access token, not refresh tokens; others still see nothing', async () => {
    const r = await gatehouse(['--data-dir', s.db.dataDir, 'app', 'update', 'orders-service', '--owner', 'ops', '--resource-server', '--json'], cliEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).introspectAll).toBe(true);
    await expect.poll(async () => (await introspect(tokens.access_token, rs)).active, { timeout: 2000, interval: 50 }).toBe(true);
    expect(await introspect(tokens.access_token, rs)).toMatchObject({ active: true, client_id: app.consumerKey, username: 'alice', sub: 'alice', token_type: 'Bearer' });
    expect(await introspect(tokens.refresh_token, rs)).toEqual({ active: false });
    expect(await introspect(tokens.access_token, other)).toEqual({ active: false });
  });

  it('only an admin may mark one, and the REST API turns it off again', async () => {
    const api = `${s.portal}/api/v1`;
    const json = { 'content-type': 'application/json' };
    const own = await call(`${api}/applications/${other.applicationId}`, { method: 'PATCH', headers: { ...json, authorization: basic('bob', 'bob password') }, body: JSON.stringify({ introspectAll: true }) });
    expect(own.status).toBe(403);
    expect(own.headers['content-type']).toMatch(/^application\/problem\+json/);
    const off = await call(`${api}/applications/${rs.applicationId}`, { method: 'PATCH', headers: { ...json, authorization: basic('root', 'root-password') }, body: JSON.stringify({ introspectAll: false }) });
    expect(off.status, off.text).toBe(200);
    expect(off.json.introspectAll).toBe(false);
    expect(await introspect(tokens.access_token, rs)).toEqual({ active: false });
  });
});
