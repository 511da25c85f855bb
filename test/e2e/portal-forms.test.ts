import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormAgent, hidden, location } from '../support/authorize.js';
import { call } from '../support/http.js';
import { LogCapture } from '../support/log-capture.js';
import { addUser, admin, startTestServer, type TestServer } from '../support/server.js';
import { keyStore, type KeyStore } from '../saml/keys.js';

const ERROR = 50;
const IDP = 'https://idp.forms.example/saml';

/** A multipart/form-data body of text fields and files, as a browser writes one. */
function multipartBody(boundary: string, fields: Record<string, string>, files: Array<{ name: string; filename: string; content: string }> = []): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) out += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  for (const f of files) out += `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\nContent-Type: application/x-pem-file\r\n\r\n${f.content}\r\n`;
  return `${out}--${boundary}--\r\n`;
}

/** Finding 1: a malformed multipart body is the visitor's mistake (a 4xx page), and only the upload forms take multipart. */
describe('portal forms: multipart/form-data', () => {
  let s: TestServer;
  let keys: KeyStore;
  const log = new LogCapture();
  const errorLines = () => log.lines.filter((l) => l.level >= ERROR);

  beforeAll(async () => {
    keys = keyStore();
    s = await startTestServer('sqlite', { log: { level: 'info' } }, { log: log.write });
    await addUser(s, 'root', 'root-password', 'admin');
  });
  afterAll(async () => {
    await s?.close();
    keys?.cleanup();
  });

  async function signIn(username: string, password: string): Promise<FormAgent> {
    const agent = new FormAgent(s.portal);
    const page = await agent.get('/store/signin');
    const r = await agent.post('/store/signin', { csrf: hidden(page.text, 'csrf'), username, password, next: '/store' });
    expect(r.status).toBe(303);
    return agent;
  }

  const post = (path: string, contentType: string, body: string, headers: Record<string, string> = {}) =>
    call(`${s.portal}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });

  it('a page form sent as multipart/form-data (no boundary, or any) is 415 HTML naming the encoding to use, unauthenticated, with no error logged', async () => {
    for (const [type, body] of [
      ['multipart/form-data', 'garbage'],
      ['multipart/form-data; boundary=zzz', '--zzz\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nabc'],
      ['multipart/form-data; boundary=zzz', multipartBody('zzz', { csrf: 'abc', username: 'root', password: 'x' })],
    ] as const) {
      for (const path of ['/store/signin', '/store/signup', '/store/applications', '/admin/users/root/lock']) {
        const r = await post(path, type, body);
        expect(r.status, `${path} ${type}`).toBe(415);
        expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(r.headers['content-security-policy']).toContain("default-src 'none'");
        expect(r.text).toContain('Send the form as application/x-www-form-urlencoded.');
        expect(r.text).not.toContain('Something went wrong');
      }
    }
    expect(errorLines()).toEqual([]);
  });

  it('a page form sent as JSON (or any other type the app parses) is 415 too, even with its CSRF token', async () => {
    const root = await signIn('root', 'root-password');
    const csrf = hidden((await root.get('/admin')).text, 'csrf');
    const cookie = [...root.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await post('/admin/users', 'application/json', JSON.stringify({ csrf, username: 'json-made', password: 'json-password-1', role: 'subscriber' }), { cookie });
    expect(r.status).toBe(415);
    expect(r.text).toContain('Send the form as application/x-www-form-urlencoded.');
    expect(await s.server.store.users.findByUsername('json-made')).toBeUndefined();
    expect(errorLines()).toEqual([]);
  });

  it('the identity provider forms: a body without a boundary, or cut short, is 400 HTML; over a limit 413; no error logged', async () => {
    for (const path of ['/admin/idps', '/admin/idps/some-id']) {
      const noBoundary = await post(path, 'multipart/form-data', 'garbage');
      expect(noBoundary.status, path).toBe(400);
      expect(noBoundary.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(noBoundary.text).toContain('The form could not be read: its multipart/form-data body is malformed or incomplete.');
      expect(noBoundary.text).not.toContain('Boundary');
      const cut = await post(path, 'multipart/form-data; boundary=zzz', '--zzz\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nabc');
      expect(cut.status, path).toBe(400);
      expect(cut.text).toContain('The form could not be read');
      expect(cut.text).not.toContain('Unexpected end');
      const bigFile = multipartBody('b0', { csrf: 'abc' }, [{ name: 'certificateFiles', filename: 'big.pem', content: 'x'.repeat(65 * 1024) }]);
      const tooBig = await post(path, 'multipart/form-data; boundary=b0', bigFile);
      expect(tooBig.status, path).toBe(413);
      expect(tooBig.text).toContain('The form is too large: at most 10 files of 64 KiB');
      const bigField = await post(path, 'multipart/form-data; boundary=b0', multipartBody('b0', { csrf: 'abc', certificatesPem: 'x'.repeat(65 * 1024) }));
      expect(bigField.status, path).toBe(413);
      // a well-formed body reaches the form's own checks: without its CSRF token, 403
      const noCsrf = await post(path, 'multipart/form-data; boundary=b0', multipartBody('b0', { issuer: IDP }));
      expect(noCsrf.status, path).toBe(403);
      expect(noCsrf.text).toContain('This form has expired or was not sent from this page');
    }
    expect(errorLines()).toEqual([]);
  });

  it('an admin still uploads PEM files (multipart) and edits with a plain form', async () => {
    const root = await signIn('root', 'root-password');
    const page = await root.get('/admin/idps');
    expect(page.text).toContain('enctype="multipart/form-data"');
    const csrf = hidden(page.text, 'csrf');
    const one = keys.make('forms-idp-1', 'ec');
    const two = keys.make('forms-idp-2', 'ec');
    const cookie = [...root.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const body = multipartBody('gh-b', { csrf, issuer: IDP, audiences: '', alias: '', certificatesPem: '' }, [
      { name: 'certificateFiles', filename: 'one.pem', content: one.certPem },
      { name: 'certificateFiles', filename: 'two.pem', content: two.certPem },
    ]);
    const r = await post('/admin/idps', 'multipart/form-data; boundary=gh-b', body, { cookie });
    expect(r.status, r.text).toBe(303);
    const shown = await root.get(location(r));
    expect(shown.text).toContain(`${IDP} is trusted now.`);
    expect(shown.text).toContain('CN=forms-idp-1');
    expect(shown.text).toContain('CN=forms-idp-2');
    // the same form sent urlencoded (no files) is read too
    const edit = await root.post(location(r), { csrf, alias: 'forms-alias', audiences: '', certificatesPem: '' });
    expect(edit.status, edit.text).toBe(303);
    expect((await root.get(location(edit))).text).toContain('Changes saved.');
    expect(errorLines()).toEqual([]);
  });

  it("an admin sets an IdP's audiences, keeps them with the field left empty, and removes them again (as `idp update --no-audiences`)", async () => {
    const root = await signIn('root', 'root-password');
    const idp = (await s.server.management.identityProviders.list(admin, { limit: 50 })).items.find((i) => i.issuer === IDP)!;
    const at = `/admin/idps/${idp.id}`;
    const accepted = async () => (await s.server.management.identityProviders.get(admin, idp.id)).audiences;
    const csrf = hidden((await root.get(at)).text, 'csrf');
    const cookie = [...root.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    // as the page's form sends it: multipart/form-data
    const save = async (fields: Record<string, string>) => {
      const r = await post(at, 'multipart/form-data; boundary=gh-a', multipartBody('gh-a', { csrf, alias: '', audiences: '', certificatesPem: '', ...fields }), { cookie });
      return { status: r.status, text: r.text };
    };
    expect((await save({})).status).toBe(303); // no alias: the defaults
    const defaults = await accepted();
    expect(defaults).toEqual([s.server.config.oauth.issuer, `${s.server.config.oauth.issuer}/token`]);
    const custom = ['https://sp.example/one', 'https://sp.example/two'];
    expect((await save({ audiences: custom.join('\r\n') })).status).toBe(303);
    expect(await accepted()).toEqual(custom);
    expect((await save({})).status).toBe(303);
    expect(await accepted()).toEqual(custom);
    // both at once is a contradiction: the field is marked, nothing changes
    const both = await save({ audiences: 'https://sp.example/three', defaultAudiences: '1' });
    expect(both.status).toBe(400);
    expect(both.text).toMatch(/id="f-audiences"[^>]*aria-invalid="true"/);
    expect(both.text).toContain('List audiences or remove them, not both.');
    expect(both.text).toMatch(/id="f-defaultAudiences"[^>]*checked/);
    expect(await accepted()).toEqual(custom);
    const reset = await save({ defaultAudiences: '1' });
    expect(reset.status, reset.text).toBe(303);
    expect(await accepted()).toEqual(defaults);
    expect((await root.get(at)).text).toContain(`<dt>Audiences accepted</dt><dd>${defaults.join(', ')}</dd>`);
    // a form without the alias field leaves the alias; a repeated one is refused, nothing changed
    expect((await save({ alias: 'https://alias.forms.example' })).status).toBe(303);
    expect((await root.post(at, { csrf, audiences: '', certificatesPem: '' })).status).toBe(303);
    expect((await s.server.management.identityProviders.get(admin, idp.id)).alias).toBe('https://alias.forms.example');
    const twice = await root.post(at, { csrf, alias: ['https://a.example', 'https://b.example'], audiences: '', certificatesPem: '' });
    expect(twice.status).toBe(400);
    expect(twice.text).toContain('the form sent alias 2 times: send it once');
    expect((await s.server.management.identityProviders.get(admin, idp.id)).alias).toBe('https://alias.forms.example');
  });
});
