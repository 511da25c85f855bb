import { describe, expect, it } from 'vitest';
import { ApiRoutes, type ApiEntry, type RouteTarget } from '../gateway/routing.js';
import type { GatewayApi } from '../gateway/types.js';
import { Conflict } from '../errors.js';
import { MAX_CONTEXT_SEGMENTS } from '../types.js';
import { apiName, applicationName, callbackUrl, context, description, distinctRoute, origins, password, uri, username, type RoutedApi } from './rules.js';

const validateCallbackUrl = (raw: string) => callbackUrl(raw, false);

describe('callback URLs', () => {
  it('accepts ASCII absolute URLs as given', () => {
    for (const ok of ['https://app.example.com/callback', 'https://xn--r8jz45g.jp/cb', 'http://127.0.0.1/cb?x=%C3%A9', 'com.example.app:/oauth2redirect']) {
      expect(validateCallbackUrl(ok)).toBe(ok);
    }
  });

  it('refuses non-ASCII (it would break every redirect later), suggesting the encoded form', () => {
    expect(() => validateCallbackUrl('https://例え.jp/cb')).toThrow(/punycode.*https:\/\/xn--r8jz45g\.jp\/cb/);
    expect(() => validateCallbackUrl('https://app.example.com/café')).toThrow(/percent-encode.*caf%C3%A9/);
  });

  it('refuses spaces around or inside, and control characters', () => {
    expect(() => validateCallbackUrl(' https://app.example.com/cb')).toThrow(/spaces around/);
    expect(() => validateCallbackUrl('https://app.example.com/cb\n')).toThrow(/spaces around/);
    expect(() => validateCallbackUrl('https://app.example.com/a b')).toThrow(/only ASCII without spaces/);
    expect(() => validateCallbackUrl('https://app.example.com/a\u0000b')).toThrow(/control characters/);
  });

  it('still refuses fragments, dangerous schemes and relative URLs', () => {
    expect(() => validateCallbackUrl('https://app.example.com/cb#x')).toThrow(/fragment/);
    expect(() => validateCallbackUrl('javascript:alert(1)')).toThrow(/scheme/);
    expect(() => validateCallbackUrl('/cb')).toThrow(/absolute URL/);
  });
});

describe('callback URLs over plain http (RFC 9700 §2.1)', () => {
  it('are refused on a non-loopback host, saying why and how to allow them', () => {
    expect(() => callbackUrl('http://app.example.com/cb', false)).toThrow(/use https.*RFC 9700.*oauth\.allowInsecureCallbacks/);
    expect(callbackUrl('http://app.example.com/cb', true)).toBe('http://app.example.com/cb');
  });
  it('are accepted for loopback hosts, as native apps use them (RFC 8252)', () => {
    for (const ok of ['http://127.0.0.1:8000/cb', 'http://[::1]/cb', 'http://localhost:3000/cb']) expect(callbackUrl(ok, false)).toBe(ok);
  });
});

describe('passwords (NIST SP 800-63B)', () => {
  it('need at least 8 characters, counted as characters, and may be long', () => {
    expect(() => password('a')).toThrow(/at least 8 characters/);
    expect(() => password('1234567')).toThrow(/at least 8 characters/);
    expect(password('12345678')).toBe('12345678');
    expect(password('ééééééé€')).toBe('ééééééé€');
    expect(password('x'.repeat(64))).toHaveLength(64);
    expect(() => password('x'.repeat(1025))).toThrow(/longer than 1024/);
    expect(() => password('alice-in-wonderland', 'alice-in-wonderland')).toThrow(/may not be the username/);
  });
});

describe('contexts and CORS origins', () => {
  it('keep APIs off the node\'s own paths', () => {
    expect(context('weather')).toBe('/weather');
    for (const bad of ['/token', '/api/x', '/store', '/.well-known', '/a/../b']) expect(() => context(bad)).toThrow();
  });
  it('accept exact origins only', () => {
    expect(origins(['https://spa.example.com', 'http://localhost:5173'])).toEqual(['https://spa.example.com', 'http://localhost:5173']);
    for (const bad of ['https://spa.example.com/', 'https://spa.example.com/app', 'http://spa.example.com', '*']) expect(() => origins([bad])).toThrow(/origin/);
  });
});

describe('usernames', () => {
  it('may hold dots, but not be only dots (they would be path segments in URLs naming the user)', () => {
    expect(username('a.b')).toBe('a.b');
    expect(username('.x')).toBe('.x');
    for (const dots of ['.', '..', '...']) expect(() => username(dots)).toThrow(`invalid username "${dots}": a name must have a character other than "."`);
  });
});

describe('context depth', () => {
  it('accepts as many segments as the gateway routes, and refuses one more, saying the limit', () => {
    expect(MAX_CONTEXT_SEGMENTS).toBe(4);
    expect(context('/a/b/c/d')).toBe('/a/b/c/d');
    expect(() => context('/a/b/c/d/e')).toThrow('context "/a/b/c/d/e" has 5 path segments: the gateway routes contexts of at most 4 (such as /partners/eu/weather/daily), so calls to this one would never reach it');
    expect(() => context('a/b/c/d/e/f')).toThrow(/has 6 path segments.*at most 4/);
  });
});

describe('API routes may not overlap (distinctRoute)', () => {
  const api = (name: string, context: string, version: string, id = `${name}-${version}`): RoutedApi => ({ id, name, context, version });
  const nested = api('Nested', '/p/weather', 'v1');
  const refusal = (mine: { id?: string; context: string; version: string }, others: RoutedApi[], field?: 'context' | 'version'): Conflict => {
    try {
      distinctRoute(mine, others, field);
    } catch (err) {
      if (err instanceof Conflict) return err;
      throw err;
    }
    throw new Error('accepted');
  };

  it('refuses a shorter route that would take every call of another API, naming it', () => {
    const e = refusal({ context: '/p', version: 'weather' }, [nested]);
    expect(e.status).toBe(409);
    expect(e.field).toBe('context');
    expect(e.message).toBe(
      'context /p with version weather overlaps API Nested:v1 (context /p/weather, version v1): the gateway would send every call to /p/weather/v1/… to this API, ' +
        'so Nested:v1 could never be reached; choose another context or version',
    );
  });

  it('refuses a longer route another API already takes, and the same route', () => {
    const shadow = api('Shadow', '/p', 'weather');
    expect(refusal({ context: '/p/weather', version: 'v1' }, [shadow]).message).toBe(
      'context /p/weather with version v1 overlaps API Shadow:weather (context /p, version weather): the gateway sends every call to /p/weather/v1/… to Shadow:weather, ' +
        'so this API could never be reached; choose another context or version',
    );
    expect(refusal({ context: '/p/weather/v1/x', version: 'v2' }, [shadow]).message).toMatch(/overlaps API Shadow:weather/);
    expect(refusal({ context: '/p/weather', version: 'v1' }, [nested]).message).toBe('context /p/weather with version v1 is already used by API Nested:v1 (context /p/weather, version v1); choose another context or version');
  });

  it('accepts routes that only share a start, the API itself, and APIs deeper than the gateway routes', () => {
    for (const ok of [
      { context: '/p', version: 'v1' },
      { context: '/p', version: 'v2' },
      { context: '/p/weather', version: 'v2' },
      { context: '/p/weatherx', version: 'v1' },
      { context: '/p/weather/daily', version: 'v1' },
      { context: '/P/weather', version: 'v1' },
      { ...nested },
    ]) {
      expect(() => distinctRoute(ok, [nested]), JSON.stringify(ok)).not.toThrow();
    }
    expect(() => distinctRoute({ context: '/a', version: 'b' }, [api('Deep', '/a/b/c/d/e', 'v1')])).not.toThrow();
    expect(refusal({ context: '/p', version: 'weather' }, [nested]).field).toBe('context');
    expect(refusal({ context: '/p', version: 'weather' }, [nested], 'version').field).toBe('version');
  });

  it("matches the gateway's router: accepted pairs are each reached, refused pairs would leave one unreachable", async () => {
    // Every context of 1 to MAX_CONTEXT_SEGMENTS segments over a two-letter alphabet, with either version.
    const segs = ['a', 'b'];
    let contexts = segs.map((s) => `/${s}`);
    const all = [...contexts];
    for (let depth = 2; depth <= MAX_CONTEXT_SEGMENTS; depth++) {
      contexts = contexts.flatMap((c) => segs.map((s) => `${c}/${s}`));
      all.push(...contexts);
    }
    const apis = all.flatMap((c) => segs.map((v) => api(`${c}:${v}`, c, v)));
    const reached = async (published: RoutedApi[], target: RoutedApi): Promise<boolean> => {
      const store = { findPublishedApi: async (c: string, v: string) => published.find((p) => p.context === c && p.version === v) as GatewayApi | undefined };
      const routes = new ApiRoutes(store, 0, (found) => ({ api: found }) as ApiEntry);
      const t: RouteTarget = { api: undefined, restStart: 0 };
      const path = `${target.context}/${target.version}/x`;
      const found = await routes.resolve(t, path, Date.now());
      return found && t.api!.api.id === target.id && path.slice(t.restStart) === '/x';
    };
    let refused = 0;
    for (const x of apis) {
      for (const y of apis) {
        if (x === y) continue;
        let accepted = true;
        try {
          distinctRoute(x, [y]);
        } catch {
          accepted = false;
          refused++;
        }
        const both = (await reached([x, y], x)) && (await reached([x, y], y));
        expect(both, `${x.name} and ${y.name}`).toBe(accepted);
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('text is valid Unicode: a lone surrogate is refused (stored, it would read back as U+FFFD)', () => {
  it.each(['\ud800', 'a\udfff', '\ufffd\ud800', 'x\udc00y'])('application and API name %j', (raw) => {
    expect(() => applicationName(raw)).toThrow(/invalid application name "[^"]*\?[^"]*": 1 to 100 printable characters/);
    expect(() => apiName(raw)).toThrow(/invalid API name/);
  });

  it('description, password and SAML URIs', () => {
    expect(() => description('fine \ud800')).toThrow('the description is not valid Unicode text (it has a lone surrogate, \\uD800–\\uDFFF)');
    expect(() => password('long-enough-\udfff')).toThrow('the password is not valid Unicode text');
    expect(() => uri('issuer', 'https://idp.example/\ud800')).toThrow('issuer must be a URI');
  });

  it('paired surrogates (an emoji) are one character: 100 of them are a name, 101 are not', () => {
    expect(applicationName('🌦'.repeat(100))).toBe('🌦'.repeat(100));
    expect(() => applicationName('🌦'.repeat(101))).toThrow(/1 to 100 printable characters/);
    // the message quotes at most 200 characters, cut between two, never inside an emoji
    let message = '';
    try {
      applicationName(`a${'🌦'.repeat(300)}`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`"a${'🌦'.repeat(199)}…"`);
    expect(/\p{Cs}/u.test(message)).toBe(false);
    expect(description('Weather 🌦 for apps')).toBe('Weather 🌦 for apps');
    expect(password('correct-horse-🌦')).toBe('correct-horse-🌦');
  });
});
