import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, FormAgent, hidden, location } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { basic, fromAddress, postForm } from '../support/http.js';
import { addUser, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const CB = 'https://client.example/cb';

/**
 * Issue 11 item 5: anonymous sign-in attempts cost the node bounded argon2 work, and someone
 * else's guesses cannot keep a user out. Each client is a different loopback source address.
 */
describe.each(kinds)('sign-in budgets and the lock-out on %s', (kind) => {
  let s: TestServer;
  let conf: TestClient;
  let pub: TestClient;
  const passwordGrant = (username: string, password: string, source: string) =>
    postForm(`${s.http}/token`, { grant_type: 'password', username, password }, { authorization: basic(conf.consumerKey, conf.consumerSecret) }, fromAddress(source));
  /** How many of these names have a failure on record (rows are keyed by a hash of the name). */
  const failuresOf = async (names: string[]) =>
    Number((await s.server.store.db.kysely.selectFrom('login_failures').select((eb) => eb.fn.countAll().as('n')).where('name_key', 'in', names.map(s.server.store.lockout.keyOf)).executeTakeFirstOrThrow()).n);
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  /** A fresh browser at `source` on the login page of a pending authorization request. */
  async function loginPage(source: string): Promise<{ agent: FormAgent; csrf: string; request: string }> {
    const agent = new FormAgent(s.https, fromAddress(source));
    const r = await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: pub.consumerKey, redirect_uri: CB, state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }));
    const page = await agent.get(location(r));
    expect(page.status).toBe(200);
    return { agent, csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request') };
  }
  const signIn = (p: { agent: FormAgent; csrf: string; request: string }, username: string, password: string) =>
    p.agent.post('/authorize/login', { csrf: p.csrf, request: p.request, username, password });

  beforeAll(async () => {
    s = await startTestServer(kind, { security: { lockout: { maxFailures: 5 }, attempts: { perAddress: 30, perSession: 10, windowSeconds: 300 } } });
    conf = await createClient(s, { owner: 'alice', password: 'alice password', app: 'web' });
    pub = await createClient(s, { owner: 'alice', app: 'mobile', callbackUrls: [CB], publicClient: true });
  });
  afterAll(async () => s?.close());

  it('one anonymous session: 40 login POSTs with fresh names get one answer, and only the first 10 are checked', async () => {
    const p = await loginPage('127.0.0.2');
    const replies = [];
    for (let i = 0; i < 40; i++) replies.push(await signIn(p, `fresh-a-${i}`, 'guess'));
    const again = `/authorize/login?request=${p.request}&error=1`;
    expect(replies.map((r) => [r.status, r.headers.location])).toEqual(Array(40).fill([303, again]));
    // Ten names were verified (and counted); the other thirty were refused before any hashing.
    expect(await failuresOf(names('fresh-a-', 40))).toBe(10);
    // Meanwhile the owner of an account signs in as usual from elsewhere.
    expect((await passwordGrant('alice', 'alice password', '127.0.0.9')).status).toBe(200);
  });

  it('new sessions from one address: at most 30 checked in the window, whatever the number of sessions', async () => {
    for (let n = 0; n < 5; n++) {
      const p = await loginPage('127.0.0.3');
      for (let i = 0; i < 10; i++) expect((await signIn(p, `fresh-b-${n}-${i}`, 'guess')).status).toBe(303);
    }
    expect(await failuresOf(Array.from({ length: 5 }, (_, n) => names(`fresh-b-${n}-`, 10)).flat())).toBe(30);
    // The password grant from that address is refused the same way, with no new failure on record.
    const r = await passwordGrant('fresh-b-last', 'guess', '127.0.0.3');
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_grant');
    expect(await failuresOf(['fresh-b-last'])).toBe(0);
  });

  it('five guesses from anywhere lock a name, but not for the address its owner signs in from', async () => {
    await addUser(s, 'carol', 'carol password');
    // Carol signs in from her usual places: the browser at .4, an app talking to /token from .5.
    const home = await loginPage('127.0.0.4');
    expect(location(await signIn(home, 'carol', 'carol password'))).toMatch(/^\/authorize\/consent\?/);
    expect((await passwordGrant('carol', 'carol password', '127.0.0.5')).status).toBe(200);
    // Someone at .6 sends five wrong passwords through the form, with no client secret.
    const attacker = await loginPage('127.0.0.6');
    for (let i = 0; i < 5; i++) await signIn(attacker, 'carol', `guess ${i}`);
    // The attacker, even with the right password now, and any new place: locked, the usual answer.
    const tried = await signIn(attacker, 'carol', 'carol password');
    expect(tried.headers.location).toBe(`/authorize/login?request=${attacker.request}&error=1`);
    const elsewhere = await passwordGrant('carol', 'carol password', '127.0.0.7');
    expect([elsewhere.status, elsewhere.json.error]).toEqual([400, 'invalid_grant']);
    // Carol from her own places: in.
    expect((await passwordGrant('carol', 'carol password', '127.0.0.5')).status).toBe(200);
    const again = await loginPage('127.0.0.4');
    expect(location(await signIn(again, 'carol', 'carol password'))).toMatch(/^\/authorize\/consent\?/);
  });
});

describe('the password hashing queue when full', () => {
  let s: TestServer;
  let conf: TestClient;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { security: { passwordHashing: { concurrency: 1, queueSize: 0 } } });
    conf = await createClient(s, { owner: 'dave', password: 'dave password', app: 'web' });
  });
  afterAll(async () => s?.close());

  it('answers 503 temporarily_unavailable with Retry-After, never a 500, and serves again after', async () => {
    const replies = await Promise.all(
      Array.from({ length: 12 }, () => postForm(`${s.http}/token`, { grant_type: 'password', username: 'dave', password: 'dave password' }, { authorization: basic(conf.consumerKey, conf.consumerSecret) })),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.every((c) => c === 200 || c === 503)).toBe(true);
    expect(statuses).toContain(200);
    const busy = replies.find((r) => r.status === 503)!;
    expect(busy.json.error).toBe('temporarily_unavailable');
    expect(busy.headers['retry-after']).toBe('1');
    expect((await postForm(`${s.http}/token`, { grant_type: 'password', username: 'dave', password: 'dave password' }, { authorization: basic(conf.consumerKey, conf.consumerSecret) })).status).toBe(200);
  });
});
