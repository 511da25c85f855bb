import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * Every package installed for production supports Node 20 (the engines range in package.json),
 * so `npm ci` warns about none. cookie 2 demands Node >= 22; package.json's overrides pin
 * cookie 1.1.x (Node >= 18), which has the functions @fastify/cookie 11 and light-my-request
 * call (their own test suites pass with it).
 */

type Version = [number, number, number];

const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, '').split('.').map((p) => (p === 'x' || p === '*' ? 0 : Number(p)));
  return [a, b, c];
};
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether a version satisfies one comparator of an npm range (the forms package-lock.json holds). */
function satisfiesOne(v: Version, comparator: string): boolean {
  const m = /^(>=|<=|>|<|\^|~|=)?\s*v?([\d.x*]+)$/.exec(comparator.trim());
  if (!m) throw new Error(`unsupported range comparator "${comparator}"`);
  const [, op = '', raw] = m;
  const target = parse(raw!);
  const parts = raw!.split('.').filter((p) => p !== 'x' && p !== '*').length;
  switch (op) {
    case '>=': return cmp(v, target) >= 0;
    case '>': return cmp(v, target) > 0;
    case '<=': return cmp(v, target) <= 0;
    case '<': return cmp(v, target) < 0;
    case '^': return v[0] === target[0] && cmp(v, target) >= 0;
    case '~': return v[0] === target[0] && v[1] === target[1] && cmp(v, target) >= 0;
    default: // a bare or x-range version: 20, 20.x, 20.1
      return (parts < 1 || v[0] === target[0]) && (parts < 2 || v[1] === target[1]) && (parts < 3 || v[2] === target[2]);
  }
}

export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((alt) => {
    const comparators = alt.trim().replace(/(>=|<=|>|<)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return comparators.length === 0 || comparators.every((c) => c === '*' || satisfiesOne(v, c));
  });
}

describe('dependencies on Node 20', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }> };
  // The lowest Node 20 that package.json allows, and the one running the tests.
  const floor = /\d+\.\d+\.\d+/.exec(pkg.engines.node)![0];

  it('the range checker reads npm ranges right', () => {
    expect(satisfies('20.18.1', '>=22')).toBe(false);
    expect(satisfies('20.18.1', '20 || >=22')).toBe(true);
    expect(satisfies('20.18.1', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('20.18.1', '>= 10.x')).toBe(true);
    expect(satisfies('20.18.1', '20.x || 22.x')).toBe(true);
    expect(satisfies('20.18.1', '>=20.18.1 <21')).toBe(true);
  });

  it('every production package admits the lowest supported Node 20 and this one', () => {
    const refused = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && !p.dev && p.engines?.node)
      .filter(([, p]) => !satisfies(floor, p.engines!.node!) || !satisfies(process.versions.node, p.engines!.node!))
      .map(([name, p]) => `${name}@${p.version} needs node ${p.engines!.node}`);
    expect(refused).toEqual([]);
  });

  it('cookie is the pinned 1.x with what @fastify/cookie and light-my-request call', () => {
    const versions = Object.entries(lock.packages).filter(([name]) => name.endsWith('node_modules/cookie')).map(([, p]) => p.version);
    expect(versions.length).toBeGreaterThan(0);
    for (const v of versions) expect(v).toMatch(/^1\.1\./);
    for (const user of ['@fastify/cookie', 'light-my-request']) {
      // The cookie module each of them resolves (npm may nest it under either).
      const fromUser = createRequire(createRequire(import.meta.url).resolve(user));
      const cookie = fromUser('cookie') as Record<string, unknown>;
      expect(fromUser(fromUser.resolve('cookie/package.json')).version, user).toMatch(/^1\.1\./);
      for (const fn of ['parseCookie', 'stringifySetCookie']) expect(typeof cookie[fn], `${user}: ${fn}`).toBe('function');
    }
  });
});
