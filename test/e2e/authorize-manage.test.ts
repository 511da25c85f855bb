import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, authorizeViaForms, callbackParams, FormAgent, hidden, location, pkcePair } from '../support/authorize.js';
import { basic, call, postForm } from '../support/http.js';
import { addUser, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/**
 * The `manage` scope in the browser flow: any application may ask for it, so the consent page
 * says plainly what it hands over (worded by the user's role), never remembers it, and a
 * public client cannot have it at all (as with the password grant, confidential clients only).
 */
const CB = 'https://helper.example/cb';
const PUB_CB = 'com.example.helper:/cb';

describe('scope manage at /authorize', () => {
  let s: TestServer;
  /** A confidential application a subscriber registered: anyone may make one and send a link to an admin. */
  let helper: TestClient;
  let pub: TestClient;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await addUser(s, 'root', 'root-password', 'admin');
    await addUser(s, 'pat', 'publisher-pw', 'publisher');
    helper = await createClient(s, { owner: 'mallory', password: 'mallory-password', app: 'Helper', callbackUrls: [CB] });
    pub = await createClient(s, { owner: 'mallory', app: 'Helper mobile', callbackUrls: [PUB_CB], publicClient: true });
  });
  afterAll(async () => s?.close());

  /** Text as the reader sees it: tags dropped, entities decoded, spaces collapsed. */
  const seen = (markup: string) => markup.replace(/<[^>]+>/g, ' ').replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/\s+/g, ' ').trim();

  /** Signs `username` in on a fresh browser and returns the consent page for `scope`. */
  async function consentFor(username: string, password: string, scope: string, agent = new FormAgent(s.https)) {
    const r = await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: helper.consumerKey, redirect_uri: CB, scope, state: 'st' }));
    let next = location(r);
    if (next.startsWith('/authorize/login')) {
      const login = await agent.get(next);
      next = location(await agent.post('/authorize/login', { csrf: hidden(login.text, 'csrf'), request: hidden(login.text, 'request'), username, password }));
    }
    expect(next).toMatch(/^\/authorize\/consent\?/);
    const page = await agent.get(next);
    expect(page.status).toBe(200);
    return { agent, page };
  }

  const warning = (html: string) => {
    const m = /<div class="alert" role="alert" id="manage-warning">([\s\S]*?)<\/div>/.exec(html);
    return m ? seen(m[1]!) : undefined;
  };

  it("warns an admin, before the list, that the application gets an administrator's full power; no Remember box", async () => {
    const { page } = await consentFor('root', 'root-password', 'manage');
    expect(warning(page.text)).toBe(
      "Warning: Helper asks to act as you in Gatehouse itself. Manage Gatehouse as you: every user, application and API — an administrator's full power. " +
        'Approve only if you trust Helper with that as much as with your password.',
    );
    expect(page.text.indexOf('id="manage-warning"')).toBeLessThan(page.text.indexOf('The application asks for'));
    expect(seen(/<ul class="scopes">([\s\S]*?)<\/ul>/.exec(page.text)![1]!)).toBe("manage – Manage Gatehouse as you: every user, application and API — an administrator's full power");
    expect(page.text).not.toContain('name="remember"');
    expect(page.text).toMatch(/<button type="submit" name="decision" value="approve" class="danger">Approve<\/button>/);
  });

  it("words it by role: a subscriber's own account, a publisher's APIs", async () => {
    const sub = await consentFor('mallory', 'mallory-password', 'manage');
    expect(warning(sub.page.text)).toContain(
      'Manage your Gatehouse account as you: change your password, and create, change and delete your applications, their keys, tokens and subscriptions.',
    );
    expect(warning(sub.page.text)).not.toContain('administrator');
    const publisher = await consentFor('pat', 'publisher-pw', 'manage');
    expect(warning(publisher.page.text)).toMatch(/Manage Gatehouse as you: every API \(create, change, publish, retire, delete\) and every subscription to it, .* a publisher's full power\./);
  });

  it('gives a scope Gatehouse does not define a generic line, and no warning without manage', async () => {
    const { page } = await consentFor('mallory', 'mallory-password', 'orders:read default');
    expect(seen(/<ul class="scopes">([\s\S]*?)<\/ul>/.exec(page.text)![1]!)).toBe(
      'default – Use the APIs you are subscribed to on your behalf orders:read – A permission Gatehouse does not define: the APIs that check it decide what it allows',
    );
    expect(warning(page.text)).toBeUndefined();
    expect(page.text).toContain('name="remember"');
  });

  it("an approval is the user's power, as the README says; it is never remembered, so the next request asks again", async () => {
    const agent = new FormAgent(s.https);
    const url = authorizeUrl(s.https, { response_type: 'code', client_id: helper.consumerKey, redirect_uri: CB, scope: 'manage', state: 'st' });
    // a forged "remember" is ignored for manage
    const loc = await authorizeViaForms(agent, url, { username: 'root', password: 'root-password', remember: true });
    const { code } = callbackParams(loc);
    const t = await postForm(`${s.https}/token`, { grant_type: 'authorization_code', code: code!, redirect_uri: CB }, { authorization: basic(helper.consumerKey, helper.consumerSecret) });
    expect(t.json).toMatchObject({ scope: 'manage' });
    const users = await call(`${s.portal}/api/v1/users`, { headers: { authorization: `Bearer ${t.json.access_token}` } });
    expect(users.status).toBe(200);
    // signed in, and having approved: still the consent page, not a code
    expect(location(await agent.get(url))).toMatch(/^\/authorize\/consent\?/);
    // without manage, a remembered approval still skips the page
    const plain = authorizeUrl(s.https, { response_type: 'code', client_id: helper.consumerKey, redirect_uri: CB, scope: 'default', state: 'st' });
    await authorizeViaForms(agent, plain, { remember: true });
    expect(location(await agent.get(plain))).toMatch(/^https:\/\/helper\.example\/cb\?code=/);
  });

  it('a public client asking for manage is sent back with invalid_scope before any page', async () => {
    const r = await call(authorizeUrl(s.https, { response_type: 'code', client_id: pub.consumerKey, redirect_uri: PUB_CB, scope: 'default manage', state: 'st', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }));
    expect(r.status).toBe(302);
    expect(callbackParams(location(r))).toMatchObject({
      error: 'invalid_scope',
      error_description: 'scope manage (the admin API as the user) is for confidential clients only, and this client has no secret: ask without manage',
      state: 'st',
    });
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it("a public client's grant that holds manage (made before this rule) renews only without it", async () => {
    const { challenge, verifier } = pkcePair();
    const url = authorizeUrl(s.https, { response_type: 'code', client_id: pub.consumerKey, redirect_uri: PUB_CB, scope: 'default', state: 'st', code_challenge: challenge, code_challenge_method: 'S256' });
    const { code } = callbackParams(await authorizeViaForms(new FormAgent(s.https), url, { username: 'root', password: 'root-password' }));
    const base = { client_id: pub.consumerKey };
    const t = await postForm(`${s.https}/token`, { ...base, grant_type: 'authorization_code', code: code!, redirect_uri: PUB_CB, code_verifier: verifier });
    expect(t.status).toBe(200);
    // as an older grant would be stored
    await s.server.store.db.kysely.updateTable('refresh_tokens').set({ scope: 'default manage' }).where('consumer_key', '=', pub.consumerKey).execute();
    const refused = await postForm(`${s.https}/token`, { ...base, grant_type: 'refresh_token', refresh_token: t.json.refresh_token });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ error: 'invalid_scope', error_description: expect.stringMatching(/^scope manage .* confidential clients only/) });
    const narrowed = await postForm(`${s.https}/token`, { ...base, grant_type: 'refresh_token', refresh_token: t.json.refresh_token, scope: 'default' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.json.scope).toBe('default');
  });

  it('the password grant gives manage to a confidential client, and never to a public one', async () => {
    const ok = await postForm(`${s.https}/token`, { grant_type: 'password', username: 'mallory', password: 'mallory-password', scope: 'manage' }, { authorization: basic(helper.consumerKey, helper.consumerSecret) });
    expect(ok.json).toMatchObject({ scope: 'manage' });
    const me = await call(`${s.portal}/api/v1/me`, { headers: { authorization: `Bearer ${ok.json.access_token}` } });
    expect(me.json).toMatchObject({ username: 'mallory', role: 'subscriber' });
    const pubTry = await postForm(`${s.https}/token`, { grant_type: 'password', username: 'mallory', password: 'mallory-password', scope: 'manage', client_id: pub.consumerKey });
    expect(pubTry.status).toBe(400);
    expect(pubTry.json.error).toBe('unauthorized_client');
  });
});
