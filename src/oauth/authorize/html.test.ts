import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consentPage, CSP, escapeHtml, html, loginPage, STYLE_HASH } from './html.js';

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
