import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumAvailable } from '../support/browser.js';
import { call } from '../support/http.js';
import { ARTIFACTS, newContext, record } from '../support/portal.js';
import { addUser, admin, startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const available = chromiumAvailable();

/**
 * The developer portal in Debian's Chromium, as people use it, finding every control by its
 * label or role: an API consumer goes from nothing to a working call (sign up, an application,
 * a subscription, keys, the token curl from the page, the API through the gateway and through
 * Try it), a publisher creates, publishes, blocks and retires. Every page is screenshotted at
 * desktop and phone width (test-artifacts/) and checked with axe-core.
 */
describe.skipIf(!available)('the developer portal in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let backend: TestBackend;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    backend = await startBackend('production');
    s = await startTestServer('sqlite');
    await addUser(s, 'pat', 'publisher-pw', 'publisher');
    await addUser(s, 'root', 'root-password', 'admin');
    const api = await s.server.management.apis.create(admin, {
      name: 'WeatherAPI', context: '/weather', version: 'v1', productionUrl: backend.url, tiers: ['Gold', 'Silver'], description: 'Forecasts for any city',
    });
    await s.server.management.apis.publish(admin, api.id);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
    await backend?.close();
  });

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${s.portal}/store/signin`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByText(`Signed in as ${username}`).count()).toBe(1);
  }

  it('an API consumer goes from nothing to a working call', { timeout: 180_000 }, async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // A refused form answers 4xx on purpose (the browser logs it as a failed resource): only script errors count.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));

    await page.goto(`${s.portal}/store`);
    await record(browser, page, 'store');
    await page.getByRole('link', { name: 'Sign up' }).first().click();
    await record(browser, page, 'signup');
    await page.getByLabel('Username').fill('dana');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    // The service's words next to the field.
    await expect.poll(() => page.locator('#f-password-error').textContent()).toContain('at least 8 characters');
    await record(browser, page, 'signup-error');
    await page.getByLabel('Password').fill('dana-in-the-sky');
    await page.getByRole('button', { name: 'Sign up' }).click();

    // My Applications: create one.
    await expect.poll(() => page.getByRole('heading', { name: 'My Applications' }).count()).toBe(1);
    await page.getByLabel('Name').fill('Weather Dashboard');
    await page.getByLabel('Callback URLs (one per line)').fill('https://dash.example.com/cb');
    await page.getByRole('button', { name: 'Create application' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Weather Dashboard' }).count()).toBe(1);

    // Subscribe it to the API with a tier.
    await page.getByRole('link', { name: 'APIs', exact: true }).click();
    await page.getByRole('link', { name: 'WeatherAPI v1' }).click();
    await record(browser, page, 'api');
    await page.getByLabel('Application').selectOption({ label: 'Weather Dashboard' });
    await page.getByLabel('Tier').selectOption('Silver');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Weather Dashboard is subscribed to WeatherAPI v1 (tier Silver)');

    // Production keys: shown once, with the curl commands filled in.
    await page.getByRole('link', { name: 'My Applications' }).click();
    await page.getByRole('link', { name: 'Weather Dashboard' }).click();
    await page.getByRole('button', { name: 'Generate keys' }).first().click();
    await record(browser, page, 'keys');
    const consumerKey = (await page.locator('#ck-PRODUCTION').textContent())!.trim();
    const consumerSecret = (await page.locator('#cs-PRODUCTION').textContent())!.trim();
    expect(await page.getByText('Consumer Key', { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.getByText('Consumer Secret', { exact: true }).count()).toBeGreaterThan(0);
    expect((await page.locator('#basic-PRODUCTION').textContent())!.trim()).toBe(Buffer.from(`${consumerKey}:${consumerSecret}`).toString('base64'));
    expect(await page.getByRole('button', { name: 'Copy Consumer Secret' }).count()).toBe(1);
    const command = (await page.locator('#curl-password-PRODUCTION').textContent())!.trim();
    expect(command).toContain('scope=PRODUCTION');
    // The command as a person copies it, with their password put in: the test runs it with curl.
    const argv = command.replace('<password>', 'dana-in-the-sky').match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
    expect(argv[0]).toBe('curl');
    const httpsPort = String(s.server.ports.https);
    const { stdout } = await run('curl', ['-s', ...argv.slice(1).map((a) => a.replace(/localhost:\d+/, `127.0.0.1:${httpsPort}`))]);
    const tokens = JSON.parse(stdout);
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'PRODUCTION' });

    // The API through the gateway with that token.
    const viaGateway = await call(`${s.https}/weather/v1/today?city=Colombo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(viaGateway.status).toBe(200);
    expect(viaGateway.json.url).toBe('/today?city=Colombo');

    // Shown once: reloading the page no longer shows the secret.
    await page.reload();
    expect(await page.locator('#cs-PRODUCTION').count()).toBe(0);
    expect(await page.content()).not.toContain(consumerSecret);

    // Try it, on the API's page.
    await page.goto(`${s.portal}/store`);
    await page.getByRole('link', { name: 'WeatherAPI v1' }).click();
    await page.getByLabel('Path after /weather/v1').fill('/forecast?days=2');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('#try-result').textContent()).toContain('200');
    expect(await page.locator('#try-result').textContent()).toContain('/forecast?days=2');
    // The form keeps what was sent, to change and send again.
    expect(await page.getByLabel('Path after /weather/v1').inputValue()).toBe('/forecast?days=2');
    await record(browser, page, 'try-it');
    // A bad path is marked on the form, which keeps the typed value.
    await page.getByLabel('Path after /weather/v1').fill('/a b');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.getByLabel('Path after /weather/v1').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Path after /weather/v1').inputValue()).toBe('/a b');
    expect(await page.locator('#try-path-error').textContent()).toContain('may not contain spaces');

    // My Subscriptions.
    await page.getByRole('link', { name: 'My Subscriptions' }).click();
    await record(browser, page, 'subscriptions');
    expect(await page.getByRole('cell', { name: 'Silver' }).count()).toBe(1);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('a publisher creates and publishes an API, blocks a subscriber (403 within 1 s) and retires it (404)', { timeout: 120_000 }, async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await signIn(page, 'pat', 'publisher-pw');
    await page.getByRole('link', { name: 'Publisher' }).click();
    await record(browser, page, 'publisher');
    await page.getByLabel('Name').fill('Orders');
    await page.getByLabel('Version').fill('v2');
    await page.getByLabel('Context').fill('/orders');
    await page.getByLabel('Description').fill('Orders of the shop');
    await page.getByLabel('Production URL').fill(backend.url);
    await page.getByLabel('Gold').check();
    await page.getByRole('button', { name: 'Create API' }).click();
    await expect.poll(() => page.getByRole('heading', { name: /Orders v2/ }).count()).toBe(1);
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('published');
    await record(browser, page, 'publisher-api');

    // A subscriber's application with a token (set up through the service, as another user would).
    const m = s.server.management;
    const api = (await m.apis.list(admin, { limit: 50 })).items.find((a) => a.name === 'Orders')!;
    await addUser(s, 'shopper', 'shopper-pass');
    const app = await m.applications.create(admin, { owner: 'shopper', name: 'Shop' });
    const keys = await m.keys.generate(admin, app.id, 'PRODUCTION');
    await m.subscriptions.create(admin, { applicationId: app.id, apiId: api.id, tier: 'Gold' });
    const token = (await m.keys.issueAccessToken(admin, app.id, 'PRODUCTION')).accessToken;
    const callOrders = () => call(`${s.http}/orders/v2/list`, { headers: { authorization: `Bearer ${token}` } });
    expect((await callOrders()).status).toBe(200);
    expect(keys.consumerKey.length).toBeGreaterThan(20);

    await page.reload();
    await page.getByRole('button', { name: 'Block Shop' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('blocked');
    const blockedAt = Date.now();
    await expect.poll(async () => (await callOrders()).status, { timeout: 1000, interval: 20 }).toBe(403);
    expect(Date.now() - blockedAt).toBeLessThan(1000);
    await page.getByRole('button', { name: 'Retire' }).click();
    await expect.poll(async () => (await callOrders()).status, { timeout: 1000, interval: 20 }).toBe(404);
    await ctx.close();
  });

  it('the admin pages: users, identity providers, an application\'s live tokens', { timeout: 120_000 }, async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await signIn(page, 'root', 'root-password');
    await page.getByRole('link', { name: 'Admin' }).click();
    await record(browser, page, 'admin-users');
    await page.getByRole('link', { name: 'Identity providers' }).click();
    await record(browser, page, 'admin-idps');
    await page.getByRole('link', { name: 'Applications and tokens' }).click();
    await page.getByRole('link', { name: 'Shop' }).click();
    await record(browser, page, 'admin-tokens');
    const before = await page.getByRole('button', { name: /Revoke token issued/ }).count();
    expect(before).toBeGreaterThan(0);
    await page.getByRole('button', { name: /Revoke token issued/ }).first().click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Token revoked');
    expect(await page.getByRole('button', { name: /Revoke token issued/ }).count()).toBe(before - 1);
    // a user added from the Users page, then the change in the audit trail
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Username').fill('added-in-browser');
    await page.getByLabel('Password').fill('added-password-1');
    await page.getByLabel('Role').last().selectOption('publisher');
    await page.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('added-in-browser added as a publisher.');
    await page.getByRole('link', { name: 'Audit trail' }).click();
    expect(await page.getByRole('cell', { name: 'createUser' }).count()).toBeGreaterThan(0);
    await record(browser, page, 'admin-audit');
    await page.getByRole('link', { name: 'Signing keys' }).click();
    expect(await page.getByRole('cell', { name: 'signing' }).count()).toBe(1);
    await record(browser, page, 'admin-signing-keys');
    await page.getByRole('link', { name: 'Tiers' }).click();
    expect(await page.getByRole('cell', { name: '5000 requests per minute' }).count()).toBe(1);
    await record(browser, page, 'admin-tiers');
    await ctx.close();
  });

  it('HTML and script in every user-controlled field are shown as text and never run', { timeout: 120_000 }, async () => {
    const payload = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>`;
    const m = s.server.management;
    await addUser(s, 'mallory', 'mallory-password');
    const app = await m.applications.create(admin, { owner: 'mallory', name: `App ${payload}`, callbackUrls: [`https://x.example/cb?q=${payload.replaceAll(' ', '')}`] });
    const api = await m.apis.create(admin, { name: `API ${payload}`, context: '/xss', version: 'v1', productionUrl: backend.url, tiers: ['Gold'], description: `Described ${payload}` });
    await m.apis.publish(admin, api.id);
    await m.subscriptions.create(admin, { applicationId: app.id, apiId: api.id, tier: 'Gold' });

    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const ran = () => page.evaluate(() => (window as unknown as { __xss?: number }).__xss);
    await signIn(page, 'mallory', 'mallory-password');
    for (const url of ['/store', `/store/apis/${api.id}`, '/store/applications', `/store/applications/${app.id}`, '/store/subscriptions']) {
      await page.goto(`${s.portal}${url}`);
      expect(await ran(), url).toBeUndefined();
      expect(await page.locator('img[src=x]').count(), url).toBe(0);
    }
    // Shown as the text it is: the application name, the API name and description, the callback URL.
    await page.goto(`${s.portal}/store/applications`);
    expect(await page.getByRole('link', { name: `App ${payload}` }).count()).toBe(1);
    expect(await page.getByText(`x.example/cb?q=`, { exact: false }).textContent()).toContain('<script>window.__xss=1</script>');
    await page.goto(`${s.portal}/store/apis/${api.id}`);
    expect(await page.getByRole('heading', { name: `API ${payload} v1` }).count()).toBe(1);
    expect(await page.getByText(`Described ${payload}`).count()).toBe(1);
    // A user name cannot hold markup at all; the refusal shows what was typed, as text.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${s.portal}/store/signup`);
    await page.getByLabel('Username').fill(payload);
    await page.getByLabel('Password').fill('long-enough-password');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect.poll(() => page.locator('#f-username-error').textContent()).toContain(`invalid username "${payload}"`);
    expect(await ran()).toBeUndefined();
    expect(dialogs).toEqual([]);
    // And for publishers and admins, where other users' names and applications appear.
    await signIn(page, 'root', 'root-password');
    for (const url of [`/publisher/apis/${api.id}`, '/admin/applications', `/admin/applications/${app.id}/tokens`, '/admin']) {
      await page.goto(`${s.portal}${url}`);
      expect(await ran(), url).toBeUndefined();
    }
    await ctx.close();
  });

  it('a long username, application name and callback URL wrap: nothing is wider than a phone, Sign out stays in the bar', async () => {
    const long = 'alexandra.konstantinopoulou@engineering.example-company.com';
    await addUser(s, long, 'long-name-password');
    await s.server.management.applications.create(admin, { owner: long, name: 'x'.repeat(100), callbackUrls: [`https://app.example.com/${'c'.repeat(250)}`] });
    const ctx = await newContext(browser, { phone: true });
    const page = await ctx.newPage();
    await signIn(page, long, 'long-name-password');
    for (const path of ['/store/applications', '/store']) {
      await page.goto(`${s.portal}${path}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBe(390);
      const bar = (await page.locator('header.top').boundingBox())!;
      const signOut = (await page.getByRole('button', { name: 'Sign out' }).boundingBox())!;
      expect(signOut.x + signOut.width, path).toBeLessThanOrEqual(bar.x + bar.width);
      expect(signOut.y + signOut.height, path).toBeLessThanOrEqual(bar.y + bar.height);
    }
    await page.goto(`${s.portal}/store/applications`);
    await record(browser, page, 'long-names');
    await ctx.close();
  });

  it('works without JavaScript: sign in, create an application, generate keys', async () => {
    const ctx = await newContext(browser, { javaScript: false, phone: true });
    const page = await ctx.newPage();
    await signIn(page, 'dana', 'dana-in-the-sky');
    await page.getByRole('link', { name: 'My Applications' }).click();
    await page.getByLabel('Name').fill('No Script App');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('button', { name: 'Generate keys' }).first().click();
    expect((await page.locator('#cs-PRODUCTION').textContent())!.trim()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // No copy buttons without the script, and nothing missing: the text is there to select.
    expect(await page.getByRole('button', { name: /^Copy/ }).count()).toBe(0);
    await ctx.close();
  });
});
