import { existsSync } from 'node:fs';
import { REQUIRE_SERVICES } from './services.js';

export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether browser tests can run: Debian's Chromium must be installed (`apt-get install
 * chromium`). Without it they are skipped with a printed reason, unless
 * GATEHOUSE_REQUIRE_SERVICES=1 (CI), where a missing browser fails the run.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const msg = `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
  if (REQUIRE_SERVICES) throw new Error(`${msg}, and GATEHOUSE_REQUIRE_SERVICES=1 requires it`);
  console.warn(`SKIP: ${msg}; browser tests skipped`);
  return false;
}
