import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/http/html.js';
import { FormAgent, hidden } from '../support/authorize.js';
import { addUser, admin, startTestServer, type TestServer } from '../support/server.js';

/**
 * The portal gives an input the service's answer, as the CLI and the admin API do: it trims
 * nothing, passes a number field's text as typed, and marks the field a conflict concerns.
 */
describe('the portal answers as the CLI and the API do', () => {
  let s: TestServer;
  let sam: FormAgent;
  let pat: FormAgent;
  let root: FormAgent;

  async function signIn(username: string, password: string): Promise<FormAgent> {
    const agent = new FormAgent(s.portal);
    const page = await agent.get('/store/signin');
    expect((await agent.post('/store/signin', { csrf: hidden(page.text, 'csrf'), username, password, next: '/store' })).status).toBe(303);
    return agent;
  }
  const csrfOf = async (agent: FormAgent, path: string) => hidden((await agent.get(path)).text, 'csrf');
  /** The error shown under a field, and whether the field is marked. */
  const fieldError = (text: string, id: string) => ({
    marked: new RegExp(`id="${id}"[^>]*aria-invalid="true"`).test(text),
    error: new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(text)?.[1],
  });

  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await addUser(s, 'sam', 'sam-password');
    await addUser(s, 'pat', 'publisher-pw', 'publisher');
    await addUser(s, 'root', 'root-password', 'admin');
    sam = await signIn('sam', 'sam-password');
    pat = await signIn('pat', 'publisher-pw');
    root = await signIn('root', 'root-password');
  });
  afterAll(async () => s?.close());

  it('a callback URL or an origin with spaces around it is refused with the service\'s words, the field marked', async () => {
    const csrf = await csrfOf(sam, '/store/applications');
    const cb = await sam.post('/store/applications', { csrf, name: 'spaced', callbackUrls: '  https://app.example.com/cb  ' });
    expect(cb.status).toBe(400);
    expect(fieldError(cb.text, 'f-callbackUrls')).toEqual({ marked: true, error: escapeHtml('invalid callback URL "  https://app.example.com/cb  ": remove the spaces around it') });
    const origin = await sam.post('/store/applications', { csrf, name: 'spaced', allowedOrigins: ' https://app.example.com ' });
    expect(origin.status).toBe(400);
    expect(fieldError(origin.text, 'f-allowedOrigins').marked).toBe(true);
    expect(origin.text).toContain(escapeHtml('invalid origin " https://app.example.com "'));
    expect(await s.server.store.applications.find('sam', 'spaced')).toBeUndefined();
    // blank lines are still skipped, CRLF as browsers send it
    expect((await sam.post('/store/applications', { csrf, name: 'two-urls', callbackUrls: 'https://a.example/cb\r\n\r\nhttps://b.example/cb\r\n' })).status).toBe(303);
    expect((await s.server.store.applications.find('sam', 'two-urls'))!.callbackUrls).toEqual(['https://a.example/cb', 'https://b.example/cb']);
  });

  it('a duplicate application name is a 409 on the name field, in the same words on create and on edit', async () => {
    const csrf = await csrfOf(sam, '/store/applications');
    expect((await sam.post('/store/applications', { csrf, name: 'weather-app' })).status).toBe(303);
    const again = await sam.post('/store/applications', { csrf, name: 'weather-app' });
    expect(again.status).toBe(409);
    expect(fieldError(again.text, 'f-name')).toEqual({ marked: true, error: escapeHtml('user "sam" already has an application named "weather-app"') });
    expect((await sam.post('/store/applications', { csrf, name: 'other-app' })).status).toBe(303);
    const other = (await s.server.store.applications.find('sam', 'other-app'))!;
    const rename = await sam.post(`/store/applications/${other.id}`, { csrf, name: 'weather-app' });
    expect(rename.status).toBe(409);
    expect(fieldError(rename.text, 'f-name').error).toBe(escapeHtml('user "sam" already has an application named "weather-app"'));
  });

  it('"Generate access token" with a bad validity: only the form sent is marked, and it keeps what was typed', async () => {
    const app = await s.server.management.applications.create(admin, { owner: 'sam', name: 'keyed' });
    await s.server.management.keys.generate(admin, app.id, 'PRODUCTION');
    await s.server.management.keys.generate(admin, app.id, 'SANDBOX');
    const csrf = await csrfOf(sam, `/store/applications/${app.id}`);
    const r = await sam.post(`/store/applications/${app.id}/keys/PRODUCTION/token`, { csrf, validitySeconds: 'abc' });
    expect(r.status).toBe(400);
    expect(fieldError(r.text, 'validity-PRODUCTION')).toEqual({ marked: true, error: escapeHtml('invalid validity "abc": a whole number of seconds from 1 to 315360000') });
    expect(r.text).toMatch(/id="validity-PRODUCTION"[^>]*value="abc"/);
    expect(fieldError(r.text, 'validity-SANDBOX')).toEqual({ marked: false, error: undefined });
    expect(r.text).toMatch(/id="validity-SANDBOX"[^>]*value="3600"/);
  });

  it("a publisher's timeout that is no number is quoted as typed; a backend URL with spaces around it is refused", async () => {
    const csrf = await csrfOf(pat, '/publisher');
    const form = { csrf, name: 'Weather', context: '/weather', version: 'v1', productionUrl: 'http://127.0.0.1:9/api', tiers: 'Gold' };
    const timeout = await pat.post('/publisher/apis', { ...form, timeoutMs: 'abc' });
    expect(timeout.status).toBe(400);
    expect(fieldError(timeout.text, 'f-timeoutMs').error).toBe(escapeHtml('invalid timeout "abc": 1 to 600000 ms'));
    const spaced = await pat.post('/publisher/apis', { ...form, productionUrl: ' http://127.0.0.1:9/api ' });
    expect(spaced.status).toBe(400);
    expect(fieldError(spaced.text, 'f-productionUrl').error).toBe(escapeHtml('invalid productionUrl " http://127.0.0.1:9/api ": remove the spaces around it'));
  });

  it('an admin adds a user from the portal, with the refusals the CLI and the API give, and sees it in the audit trail', async () => {
    const csrf = await csrfOf(root, '/admin');
    const added = await root.post('/admin/users', { csrf, username: 'newbie', password: 'newbie-password', role: 'publisher' });
    expect(added.status).toBe(303);
    expect((await s.server.management.users.show(admin, 'newbie')).role).toBe('publisher');
    const bad = await root.post('/admin/users', { csrf, username: 'no spaces', password: 'newbie-password', role: 'subscriber' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, 'f-username')).toEqual({ marked: true, error: escapeHtml('invalid username "no spaces": use letters, digits and . _ @ + - (at most 255)') });
    const short = await root.post('/admin/users', { csrf, username: 'shorty', password: 'short', role: 'subscriber' });
    expect(fieldError(short.text, 'f-password').marked).toBe(true);
    const again = await root.post('/admin/users', { csrf, username: 'Newbie', password: 'newbie-password', role: 'subscriber' });
    expect(again.status).toBe(409);
    expect(fieldError(again.text, 'f-username').error).toBe(escapeHtml('user "newbie" already exists (names differ only in case are not allowed)'));
    // a subscriber gets no such form
    expect((await sam.post('/admin/users', { csrf: await csrfOf(sam, '/store'), username: 'sneaky', password: 'sneaky-password' })).status).toBe(403);
    const audit = await root.get('/admin/audit');
    expect(audit.status).toBe(200);
    expect(audit.text).toMatch(/<td data-label="Who">root[^<]*(<span[^>]*>[^<]*<\/span>)?<\/td>\s*<td data-label="Via" class="short">portal<\/td><td data-label="Operation"><code>createUser<\/code><\/td>/);
    expect(audit.text).not.toContain('newbie-password');
    // what changed is shown: the role granted
    expect(audit.text).toContain(`<code>${escapeHtml('{"role":"publisher"}')}</code>`);
    // an empty or repeated role is the service's refusal, not a silent subscriber
    const empty = await root.post('/admin/users', { csrf, username: 'roleless', password: 'roleless-password', role: '' });
    expect(empty.status).toBe(400);
    expect(fieldError(empty.text, 'f-role').marked).toBe(true);
    expect(await s.server.store.users.findByUsername('roleless')).toBeUndefined();
  });

  it("the tiers' limits in the service's words: on an API's Store page (visitor and subscriber) and on Admin's Tiers page", async () => {
    const api = await s.server.management.apis.create(admin, { name: 'Tiered', context: '/tiered', version: 'v1', productionUrl: 'http://127.0.0.1:9/api', tiers: ['Gold', 'Unlimited'] });
    await s.server.management.apis.publish(admin, api.id);
    await s.server.management.applications.create(admin, { owner: 'sam', name: 'tier-app' });
    const visitor = await new FormAgent(s.portal).get(`/store/apis/${api.id}`);
    expect(visitor.status).toBe(200);
    expect(visitor.text).toContain('<dt>Tiers</dt><dd><div>Gold: 5000 requests per minute</div><div>Unlimited: no limit</div></dd>');
    const page = await sam.get(`/store/apis/${api.id}`);
    expect(page.text).toContain('<option value="Gold">Gold: 5000 requests per minute</option><option value="Unlimited">Unlimited: no limit</option>');
    const tiers = await root.get('/admin/tiers');
    expect(tiers.status).toBe(200);
    const rows = [...tiers.text.matchAll(/<tr><td data-label="Tier">([^<]+)<\/td><td data-label="Limit">([^<]+)<\/td><\/tr>/g)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual((await s.server.management.tiers.list(admin)).items.map((t) => [t.name, t.description]));
    expect(rows[0]).toEqual(['Gold', '5000 requests per minute']);
    expect((await root.get('/admin')).text).toContain('<a href="/admin/tiers">Tiers</a>');
    expect((await sam.get('/admin/tiers')).status).toBe(403);
    // a tier sent twice is no choice: refused, nothing subscribed (the API refuses an array too)
    const app = (await s.server.store.applications.find('sam', 'tier-app'))!;
    const csrf = await csrfOf(sam, `/store/apis/${api.id}`);
    const twice = await sam.post(`/store/apis/${api.id}/subscribe`, { csrf, applicationId: app.id, tier: ['Gold', 'Unlimited'] });
    expect(twice.status).toBe(400);
    expect(twice.text).toContain('the form sent tier 2 times: send it once');
    expect((await s.server.management.subscriptions.list(admin, { applicationId: app.id })).items).toEqual([]);
  });

  it('a signed-in subscriber refused an Admin page is led back to the Store, not to another refusal', async () => {
    const r = await sam.get('/admin/audit');
    expect(r.status).toBe(403);
    expect(r.text).toContain('<a href="/store">Back to the APIs</a>');
  });

  it('an admin sees the signing keys and rotates them: refused while the next key is new, done with force', async () => {
    const page = await root.get('/admin/signing-keys');
    expect(page.status).toBe(200);
    const before = await s.server.management.signingKeys.list(admin);
    const signing = before.items.find((k) => k.state === 'signing')!;
    const next = before.items.find((k) => k.state === 'next')!;
    expect(page.text).toContain(`<code>${signing.kid}</code>`);
    expect(page.text).toContain(`<code>${next.kid}</code>`);
    const csrf = hidden(page.text, 'csrf');
    const early = await root.post('/admin/signing-keys/rotate', { csrf });
    expect(early.status).toBe(409);
    expect(early.text).toContain(`the next key ${next.kid} was published`);
    expect(early.text).toContain('or now with force');
    const forced = await root.post('/admin/signing-keys/rotate', { csrf, force: 'on' });
    expect(forced.status).toBe(303);
    const after = await s.server.management.signingKeys.list(admin);
    expect(after.items.find((k) => k.state === 'signing')!.kid).toBe(next.kid);
    expect(after.items.find((k) => k.kid === signing.kid)!.state).toBe('retiring');
    // subscribers and publishers get no such page
    expect((await pat.get('/admin/signing-keys')).status).toBe(403);
  });

  it("an admin's refused action leads back to Admin, not to the Store", async () => {
    const csrf = await csrfOf(root, '/admin');
    const r = await root.post('/admin/users/root/role', { csrf, role: 'subscriber' });
    expect(r.status).toBe(409);
    expect(r.text).toContain(escapeHtml('"root" is the only admin'));
    expect(r.text).toContain('<a href="/admin">Back to Admin</a>');
  });
});
