import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, FormAgent, location, pkcePair } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, fromAddress, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const CB = 'com.example.app:/cb';

/**
 * Issue 11 item 4: anonymous requests cannot grow the database without bound. Scopes are
 * capped at /token and /authorize, a cookie holds at most 10 pending requests, and one
 * address opens at most `security.attempts.sessionsPerAddress` sessions a minute.
 */
describe.each(kinds)('bounded growth from unauthenticated requests (%s)', (kind) => {
  let s: TestServer;
  let pub: TestClient;
  let conf: TestClient;
  const count = async (table: 'login_sessions' | 'authorization_requests') =>
    Number((await s.server.store.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const authorize = (extra: Record<string, string> = {}) =>
    authorizeUrl(s.https, { response_type: 'code', client_id: pub.consumerKey, redirect_uri: CB, state: 's', code_challenge: pkcePair().challenge, code_challenge_method: 'S256', ...extra });

  beforeAll(async () => {
    s = await startTestServer(kind, { security: { attempts: { sessionsPerAddress: 20 } } });
    pub = await createClient(s, { owner: 'alice', app: 'mobile', callbackUrls: [CB], publicClient: true });
    conf = await createClient(s, { owner: 'alice', app: 'server' });
  });
  afterAll(async () => s?.close());

  it('/token refuses a scope over 1 KiB or over 20 values with invalid_scope, and stores nothing', async () => {
    const auth = { authorization: basic(conf.consumerKey, conf.consumerSecret) };
    const long = await postForm(`${s.https}/token`, { grant_type: 'client_credentials', scope: 'x'.repeat(1025) }, auth);
    expect([long.status, long.json]).toEqual([400, { error: 'invalid_scope', error_description: 'The scope is longer than 1024 characters.' }]);
    const many = await postForm(`${s.https}/token`, { grant_type: 'client_credentials', scope: Array.from({ length: 21 }, (_, i) => `s${i}`).join(' ') }, auth);
    expect([many.status, many.json]).toEqual([400, { error: 'invalid_scope', error_description: 'The scope has more than 20 values.' }]);
    const twenty = await postForm(`${s.https}/token`, { grant_type: 'client_credentials', scope: Array.from({ length: 20 }, (_, i) => `s${i}`).join(' ') }, auth);
    expect(twenty.status).toBe(200);
    expect(twenty.json.scope.split(' ')).toHaveLength(20);
  });

  it('/authorize sends a 60 KiB scope back to the client as invalid_scope without storing the request', async () => {
    const before = await count('authorization_requests');
    const scope = Array.from({ length: 5000 }, (_, i) => `scope-${i}`).join(' ');
    // The attack's shape: a cookieless POST (a URL that long is already 431 at the listener).
    const form = { response_type: 'code', client_id: pub.consumerKey, redirect_uri: CB, state: 'x'.repeat(2048), code_challenge: pkcePair().challenge, code_challenge_method: 'S256', scope };
    const r = await postForm(`${s.https}/authorize`, form, {}, fromAddress('127.0.0.2'));
    expect(r.status).toBe(303);
    const back = new URL(location(r));
    expect(back.protocol).toBe('com.example.app:');
    expect(back.searchParams.get('error')).toBe('invalid_scope');
    expect(await count('authorization_requests')).toBe(before);
  });

  it('one cookie keeps at most 10 pending requests: the newest work, the oldest make room', async () => {
    const agent = new FormAgent(s.https, fromAddress('127.0.0.3'));
    const pages: string[] = [];
    for (let i = 0; i < 15; i++) pages.push(location(await agent.get(authorize({ state: `tab-${i}` }))));
    const session = await s.server.store.db.kysely.selectFrom('authorization_requests').select((eb) => ['session_id', eb.fn.countAll().as('n')]).groupBy('session_id').orderBy('n', 'desc').executeTakeFirstOrThrow();
    expect(Number(session.n)).toBe(10);
    expect((await agent.get(pages[14]!)).status).toBe(200);
    expect((await agent.get(pages[5]!)).status).toBe(200);
    const oldest = await agent.get(pages[0]!);
    expect(oldest.status).toBe(400);
    expect(oldest.text).toContain('Your sign-in has expired');
  });

  it('one address opens at most sessionsPerAddress sessions in the window; then 429, and another address is served', async () => {
    const before = await count('login_sessions');
    const replies = [];
    for (let i = 0; i < 25; i++) replies.push(await call(authorize(), { dispatcher: fromAddress('127.0.0.4') }));
    expect(replies.slice(0, 20).every((r) => r.status === 302 && location(r).startsWith('/authorize/login?'))).toBe(true);
    const refused = replies[20]!;
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(refused.text).toContain('Too many sign-in requests');
    expect(replies.slice(20).every((r) => r.status === 429)).toBe(true);
    expect(await count('login_sessions')).toBe(before + 20);
    const elsewhere = await call(authorize(), { dispatcher: fromAddress('127.0.0.5') });
    expect(elsewhere.status).toBe(302);
  });
});
