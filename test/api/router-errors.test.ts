import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, call } from '../support/http.js';
import { ALICE, PUB, ROOT, expectProblem, ok, startApiServer, type ApiServer } from './support.js';

/**
 * Issue 9: refusals fastify makes before (or instead of) a route are problem+json on the
 * admin API like every other error: a too long path parameter (414), a path that does not
 * percent-decode, JSON that does not parse, another content type (415), an unknown route.
 * The portal's pages answer with their HTML error page. An empty JSON body is no body.
 */
let a: ApiServer;
beforeAll(async () => {
  a = await startApiServer();
});
afterAll(async () => a?.close());

describe('router-level errors on /api/v1', () => {
  it('every username routes (255 characters: fastify stopped at 100 with a 414); longer is 414 problem+json, without echoing the path', async () => {
    const longest = 'l'.repeat(255);
    expect(ok(await a.rest('POST', '/users', { as: ROOT, body: { username: longest, password: 'long-name-password' } }), 201).username).toBe(longest);
    expect(ok(await a.rest('GET', `/users/${longest}`, { as: ROOT })).username).toBe(longest);
    expect(ok(await a.rest('PATCH', `/users/${longest}`, { as: ROOT, body: { locked: true } })).locked).toBe(true);
    const r = await a.rest('GET', `/users/${'x'.repeat(256)}`, { as: ROOT });
    expectProblem(r, 414, 'The request URL is too long: a path parameter has more than 255 characters.');
    expect(r.text).not.toContain('xxxxxxxxxx');
  });

  it('a path that does not percent-decode is 400 problem+json', async () => {
    expectProblem(await a.rest('GET', '/users/a%zz', { as: ROOT }), 400, 'The request URL is not valid: write "%" only as %XX (percent-encoded UTF-8).');
  });

  it('the portal listener outside /api answers with its HTML error page (test/e2e/portal-error-formats.test.ts has the rest)', async () => {
    const bad = await call(`${a.s.portal}/store/a%zz`);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(bad.text).toContain('The request URL is not valid');
    const long = await call(`${a.s.portal}/admin/users/${'x'.repeat(300)}`);
    expect(long.status).toBe(414);
    expect(long.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(long.text).toContain('The request URL is too long: a path parameter has more than 255 characters.');
    expect(long.text).not.toContain('xxxxxxxxxx');
  });

  it('JSON that does not parse is 400 problem+json', async () => {
    expectProblem(await a.rest('POST', '/applications', { as: ALICE, body: '{"name": ' }), 400, 'The request body is not valid JSON.');
  });

  it('text/plain, a form or XML is 415 problem+json (the API reads JSON only)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await a.rest('POST', '/applications', { as: ALICE, body: 'name=x', headers: { 'content-type': type } });
      expectProblem(r, 415, 'Send the request body as application/json.');
    }
  });

  it('an unknown route under /api/v1 is 404 problem+json, once the caller is known', async () => {
    expectProblem(await a.rest('GET', '/nothing-here', { as: ROOT }), 404, 'no operation GET /api/v1/nothing-here');
    expectProblem(await a.rest('GET', '/users/bob/extra', { as: ROOT }), 404, 'no operation GET /api/v1/users/bob/extra');
    expectProblem(await a.rest('GET', '/nothing-here'), 401, /^Send credentials/);
  });

  it('a path served with other methods is 405 problem+json with Allow', async () => {
    const put = await a.rest('PUT', '/users', { as: ROOT, body: {} });
    expectProblem(put, 405, /^\/api\/v1\/users does not take PUT; it takes (GET|POST|HEAD)(, (GET|POST|HEAD)){2}$/);
    expect(String(put.headers.allow).split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    const post = await a.rest('POST', '/applications/some-id', { as: ALICE, body: {} });
    expectProblem(post, 405, /^\/api\/v1\/applications\/some-id does not take POST/);
    expect(String(post.headers.allow).split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH']);
    // the caller is known first: no credentials is still 401
    expectProblem(await a.rest('PUT', '/users'), 401, /^Send credentials/);
  });

  it('a body over 1 MiB is 413 problem+json', async () => {
    const r = await a.rest('POST', '/applications', { as: ALICE, body: JSON.stringify({ name: 'x'.repeat(1024 * 1024) }) });
    expectProblem(r, 413, 'The request body is larger than 1 MiB.');
  });
});

describe('empty bodies', () => {
  it('POST …/publish with Content-Type: application/json and no body is accepted', async () => {
    const api = ok(await a.rest('POST', '/apis', { as: PUB, body: { name: 'Empty', context: '/empty', version: 'v1', productionUrl: 'https://backend.example' } }), 201);
    const r = await call(`${a.s.portal}/api/v1/apis/${api.id}/publish`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(PUB.user, PUB.password) }, body: '' });
    expect(ok(r).status).toBe('PUBLISHED');
    const keys = await call(`${a.s.portal}/api/v1/applications/${(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'empty-keys' } })).json.id}/keys/SANDBOX`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic(ALICE.user, ALICE.password) },
      body: '',
    });
    expect(ok(keys, 201)).toMatchObject({ keyType: 'SANDBOX', consumerKey: expect.any(String), consumerSecret: expect.any(String) });
    // a DELETE sent the same way reaches its operation too
    const del = await call(`${a.s.portal}/api/v1/apis/${api.id}`, { method: 'DELETE', headers: { 'content-type': 'application/json', authorization: basic(PUB.user, PUB.password) }, body: '' });
    expect(del.status, del.text).toBe(204);
  });

  it('an empty body where one is needed is a clear 400 problem', async () => {
    const r = await call(`${a.s.portal}/api/v1/applications`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(ALICE.user, ALICE.password) }, body: '' });
    expectProblem(r, 400, 'the request body must be a JSON object');
    const none = await call(`${a.s.portal}/api/v1/applications`, { method: 'POST', headers: { authorization: basic(ALICE.user, ALICE.password) } });
    expectProblem(none, 400, 'the request body must be a JSON object');
  });
});
