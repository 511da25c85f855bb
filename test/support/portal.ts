import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

export const ARTIFACTS = path.resolve('test-artifacts');
const AXE = readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A browser context as a person uses one: our self-signed certificate trusted, JavaScript on or off. */
export function newContext(browser: Browser, opts: { phone?: boolean; javaScript?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({
    ignoreHTTPSErrors: true,
    javaScriptEnabled: opts.javaScript ?? true,
    viewport: opts.phone ? PHONE : DESKTOP,
    ...(opts.phone ? { isMobile: true, deviceScaleFactor: 2 } : {}),
  });
}

/**
 * Runs axe-core on the page as it is, in a second context that ignores the CSP (axe is injected
 * as a script), and fails on any violation of impact serious or critical.
 */
export async function checkAccessibility(browser: Browser, page: Page, name: string): Promise<void> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true, viewport: DESKTOP });
  try {
    const copy = await ctx.newPage();
    await ctx.addCookies(await page.context().cookies());
    await copy.setContent(await page.content(), { waitUntil: 'load' });
    await copy.addScriptTag({ content: AXE });
    const result = (await copy.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
      return axe.run(document, { resultTypes: ['violations'] });
    })) as { violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> };
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  } finally {
    await ctx.close();
  }
}

/** Screenshots of a page at desktop and phone width (the phone one in a context of its own, same cookies). */
export async function screenshots(browser: Browser, page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `portal-${name}-desktop.png`), fullPage: true });
  const ctx = await newContext(browser, { phone: true });
  try {
    await ctx.addCookies(await page.context().cookies());
    const phone = await ctx.newPage();
    await phone.goto(page.url());
    await phone.screenshot({ path: path.join(ARTIFACTS, `portal-${name}-phone.png`), fullPage: true });
  } finally {
    await ctx.close();
  }
}

/** Everything a page documents about itself: screenshots (desktop, phone) and the accessibility check. */
export async function record(browser: Browser, page: Page, name: string): Promise<void> {
  await screenshots(browser, page, name);
  await checkAccessibility(browser, page, name);
}
