import { validate, compileErrors } from '@readme/openapi-parser';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from '../../src/api/plugin.js';
import { basic, call } from '../support/http.js';
import { ROOT, startApiServer, type ApiServer } from './support.js';

/** Issue 9 item 2: every operationId automation looks for, in the order the issue names them. */
const OPERATIONS = [
  'signUp', 'getCurrentUser', 'createUser', 'listUsers', 'updateUser', 'deleteUser',
  'createApplication', 'listApplications', 'getApplication', 'updateApplication', 'deleteApplication',
  'generateKeys', 'getKeys', 'regenerateSecret', 'revokeKeyTokens',
  'createApi', 'listApis', 'getApi', 'updateApi', 'publishApi', 'retireApi', 'deleteApi',
  'createSubscription', 'listSubscriptions', 'blockSubscription', 'unblockSubscription', 'deleteSubscription',
  'createIdentityProvider', 'listIdentityProviders', 'updateIdentityProvider', 'deleteIdentityProvider',
  'listApplicationTokens', 'revokeApplicationToken', 'listAuditEvents',
];
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

let a: ApiServer;
let doc: any;
beforeAll(async () => {
  a = await startApiServer();
  const r = await call(`${a.s.portal}/api/v1/openapi.json`);
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  doc = r.json;
});
afterAll(async () => a?.close());

const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })),
  );

describe('the OpenAPI document at /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document for an independent validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.specification).toBe('OpenAPI');
  });

  it('names every operation the issue lists, each once', () => {
    const ids = operations().map((o) => o.op.operationId);
    expect(ids.filter((id) => OPERATIONS.includes(id)).sort()).toEqual([...OPERATIONS].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses the path parameter names the issue gives', () => {
    const names = new Set(operations().flatMap((o) => [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])));
    expect([...names].sort()).toEqual(['apiId', 'applicationId', 'identityProviderId', 'keyType', 'subscriptionId', 'tokenId', 'username']);
  });

  it('documents a request schema for every body and a response schema for every operation, errors as RFC 9457 problems', () => {
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      if (op.requestBody) expect(op.requestBody.content?.['application/json']?.schema, where).toMatchObject({ type: 'object' });
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(success, where).toHaveLength(1);
      const [code] = success;
      if (code !== '204') expect(Object.values(op.responses[code!].content ?? {})[0], where).toHaveProperty('schema');
      for (const err of ['4XX', '5XX']) {
        expect(op.responses[err]?.content?.['application/problem+json']?.schema?.required, `${where} ${err}`).toEqual(['type', 'title', 'status', 'detail']);
      }
    }
  });

  it('asks for credentials on every operation but signUp, which needs none', () => {
    expect(doc.security).toEqual([{ basic: [] }, { bearer: [] }]);
    for (const { op } of operations()) {
      if (op.operationId === 'signUp') expect(op.security).toEqual([]);
      else expect(op.security).toBeUndefined();
    }
  });

  it('answers the creations with 201 and an id, the lists with {items, next}', () => {
    for (const { method, op } of operations()) {
      const id: string = op.operationId;
      if (method === 'post' && /^create|^signUp$/.test(id)) {
        expect(Object.keys(op.responses), id).toContain('201');
        const schema = op.responses['201'].content['application/json'].schema;
        expect(schema.properties.id ?? schema.properties.username, id).toMatchObject({ type: 'string' });
      }
      if (id.startsWith('list')) {
        const schema = op.responses['200'].content['application/json'].schema;
        expect(Object.keys(schema.properties), id).toEqual(['items', 'next']);
        expect(op.parameters.map((p: { name: string }) => p.name), id).toEqual(expect.arrayContaining(['limit', 'cursor']));
      }
    }
  });

  it('the reference page at /api/docs is served from the package, with no other origin', async () => {
    const page = await call(`${a.s.portal}/api/docs/`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    expect(page.text).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    const assets = [...page.text.matchAll(/(?:src|href)="(\.?\/?[^"]+\.(?:js|css))"/g)].map((m) => new URL(m[1]!, `${a.s.portal}/api/docs/`).href);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) expect((await call(asset)).status, asset).toBe(200);
  });
});

/** A documented path with its parameters filled in (ids that do not exist; keyType PRODUCTION). */
const concrete = (path: string) => path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'keyType' ? 'PRODUCTION' : 'no-such-id'));

describe('the routes the server serves under /api/v1', () => {
  it('an operation the document gives no request body refuses one with a field, naming it; {} or none is no body', async () => {
    const bodiless = operations().filter((o) => !o.op.requestBody && o.method !== 'get');
    expect(bodiless.map((o) => o.op.operationId)).toEqual(expect.arrayContaining(['revokeKeyTokens', 'regenerateSecret', 'publishApi', 'blockSubscription', 'deleteUser']));
    const headers = { authorization: basic(ROOT.user, ROOT.password), 'content-type': 'application/json' };
    for (const { path, method, op } of bodiless) {
      const url = `${a.s.portal}${concrete(path)}`;
      const refused = await call(url, { method: method.toUpperCase(), headers, body: JSON.stringify({ unexpected: true }) });
      expect([refused.status, refused.json.detail, refused.json.field], op.operationId).toEqual([400, 'unknown field unexpected', 'unexpected']);
      expect(String(refused.headers['content-type']), op.operationId).toMatch(/^application\/problem\+json/);
      // the ids do not exist: the operation itself answers (404), the body is not what it refuses
      for (const body of ['{}', '']) expect((await call(url, { method: method.toUpperCase(), headers, body })).status, `${op.operationId} ${body || 'empty'}`).toBe(404);
    }
  });

  it('the document says a request body is optional exactly where the route takes none (generateKeys, generateAccessToken, rotateSigningKeys)', async () => {
    const withBody = operations().filter((o) => o.op.requestBody);
    for (const { op } of withBody) expect(typeof op.requestBody.required, op.operationId).toBe('boolean');
    const optional = withBody.filter((o) => o.op.requestBody.required === false).map((o) => o.op.operationId);
    expect(optional.sort()).toEqual(['generateAccessToken', 'generateKeys', 'rotateSigningKeys']);
    // and the routes agree: without a body, a required one is refused before the operation runs, an optional one is not
    for (const { path, method, op } of withBody) {
      const r = await call(`${a.s.portal}${concrete(path)}`, { method: method.toUpperCase(), headers: { authorization: basic(ROOT.user, ROOT.password) } });
      if (op.requestBody.required) expect([r.status, r.json.detail], op.operationId).toEqual([400, 'the request body must be a JSON object']);
      else expect(r.json?.detail ?? '', `${op.operationId}: ${r.text}`).not.toBe('the request body must be a JSON object');
    }
  });


  it('are all in the document (and the document has no route the server lacks)', async () => {
    // The same plugin the portal listener registers, with a hook that sees every route it adds.
    const app = Fastify();
    const served: string[] = [];
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/v1/') || route.url === '/api/v1/openapi.json') return;
      for (const method of [route.method].flat()) if (method !== 'HEAD') served.push(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    });
    await app.register(adminApi, { management: a.s.server.management });
    await app.ready();
    await app.close();
    const documented = operations().map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(served.length).toBeGreaterThanOrEqual(OPERATIONS.length);
    expect(served.sort()).toEqual(documented.sort());
  });

  it('the running portal listener serves what the document says (each documented path answers, never 404 for the route)', async () => {
    for (const { path, method } of operations()) {
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'keyType' ? 'PRODUCTION' : 'no-such-id'));
      const r = await call(`${a.s.portal}${url}`, { method: method.toUpperCase() });
      // No credentials: 401 (or signUp's 400 for the missing body) — the route exists.
      expect([400, 401], `${method} ${url}: ${r.text}`).toContain(r.status);
      expect(r.json.detail, `${method} ${url}`).not.toMatch(/^no operation/);
    }
  });
});
