import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consentPage, CSP, escapeHtml, html, loginPage, OTHER_SCOPE_TEXT, STYLE_HASH } from './html.js';

describe('pages', () => {
  it('escapes every interpolated value', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
    expect(html`<p title="${'"><script>'}">${'<b>'}</p>`.value).toBe('<p title="&#34;&#62;&#60;script&#62;">&#60;b&#62;</p>');
    const evil = '"><script>alert(1)</script>';
    const page = consentPage({ applicationName: evil, username: evil, scope: [evil], destination: evil, requestId: evil, csrf: evil });
    expect(page).not.toContain('<script>');
    expect(loginPage({ applicationName: evil, requestId: evil, csrf: evil, failed: true })).not.toContain('<script>');
  });

  it('allows exactly its own inline style and forbids framing', () => {
    const page = loginPage({ applicationName: 'A', requestId: 'r', csrf: 'c', failed: false });
    const css = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    expect(STYLE_HASH).toBe(`sha256-${createHash('sha256').update(css).digest('base64')}`);
    expect(CSP).toContain(`style-src '${STYLE_HASH}'`);
    expect(CSP).toContain("frame-ancestors 'none'");
    expect(CSP).toContain("default-src 'none'");
    expect(page).not.toMatch(/<script/i);
  });
});

describe('the consent page', () => {
  const base = { applicationName: 'Helper', username: 'root', destination: 'https://helper.example', requestId: 'r', csrf: 'c' };
  /** Markup as a reader sees it: no tags, entities decoded. */
  const text = (markup: string) => markup.replace(/<[^>]+>/g, '').replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  const items = (page: string) => [...page.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => text(m[1]!));

  it('describes every scope: its meaning here, or a generic line for one Gatehouse does not define', () => {
    const page = consentPage({ ...base, role: 'subscriber', scope: ['PRODUCTION', 'constructor', 'default', 'orders:read'] });
    expect(items(page)).toEqual([
      'PRODUCTION – Production access',
      `constructor – ${OTHER_SCOPE_TEXT}`,
      'default – Use the APIs you are subscribed to on your behalf',
      `orders:read – ${OTHER_SCOPE_TEXT}`,
    ]);
    expect(page).not.toContain('manage-warning');
    expect(page).toMatch(/<button type="submit" name="decision" value="approve">Approve<\/button>/);
  });

  it("warns about manage before anything else, in words of the user's role, and marks Approve as dangerous", () => {
    const admin = consentPage({ ...base, role: 'admin', scope: ['default', 'manage'] });
    const warning = /<div class="alert" role="alert" id="manage-warning">([\s\S]*?)<\/div>/.exec(admin)![1]!;
    const seen = text(warning).replace(/\s+/g, ' ').trim();
    expect(seen).toBe(
      "Warning: Helper asks to act as you in Gatehouse itself. Manage Gatehouse as you: every user, application and API — an administrator's full power. " +
        'Approve only if you trust Helper with that as much as with your password.',
    );
    expect(admin.indexOf('manage-warning')).toBeLessThan(admin.indexOf('The application asks for'));
    expect(items(admin)).toContain("manage – Manage Gatehouse as you: every user, application and API — an administrator's full power");
    expect(admin).toMatch(/<button type="submit" name="decision" value="approve" class="danger">Approve<\/button>/);

    expect(items(consentPage({ ...base, role: 'subscriber', scope: ['manage'] }))).toEqual([
      'manage – Manage your Gatehouse account as you: change your password, and create, change and delete your applications, their keys, tokens and subscriptions',
    ]);
    expect(items(consentPage({ ...base, role: 'publisher', scope: ['manage'] }))[0]).toMatch(/^manage – Manage Gatehouse as you: every API .* a publisher's full power$/);
    // role unknown: the most powerful wording
    expect(text(consentPage({ ...base, scope: ['manage'] }))).toContain("an administrator's full power");
  });
});
