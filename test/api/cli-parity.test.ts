import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouse } from '../support/cli.js';
import { ALICE, PUB, expectProblem, ok, startApiServer, type ApiServer } from './support.js';

/**
 * Issue 9 acceptance: the CLI and the REST API give the same rule the same answer — the same
 * text as the CLI's one stderr line (exit 1, or {"error"} with --json) and as the problem's
 * detail. One CLI process per case (each costs about 1.5 s), against the running node's data.
 */
let a: ApiServer;
beforeAll(async () => {
  a = await startApiServer();
  ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'taken' } }), 201);
  ok(await a.rest('POST', '/apis', { as: PUB, body: { name: 'Weather', context: '/weather', version: 'v1', productionUrl: 'http://backend.internal/v1' } }), 201);
});
afterAll(async () => a?.close());

const cli = (...args: string[]) => gatehouse(['--data-dir', a.s.db.dataDir, ...args]);

/** The CLI's refusal: exit 1 and one line on stderr, nothing on stdout; the message without the prefix. */
function cliRefusal(r: { code: number; stdout: string; stderr: string }): string {
  expect(r.code, r.stdout).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.startsWith('gatehouse: ')).toBe(true);
  return r.stderr.slice('gatehouse: '.length).trimEnd();
}

describe('the same rule, the same answer', () => {
  it('a plain http callback URL on a non-loopback host', async () => {
    const url = 'http://app.example.com/callback';
    const rest = await a.rest('POST', '/applications', { as: ALICE, body: { name: 'insecure', callbackUrls: [url] } });
    expectProblem(rest, 400, /^invalid callback URL "http:\/\/app\.example\.com\/callback": use https; .*RFC 9700 §2\.1/, 'callbackUrls');
    const message = cliRefusal(await cli('app', 'create', 'insecure', '--owner', 'alice', '--callback-url', url));
    expect(message).toBe(rest.json.detail);
  });

  it('a duplicate application name', async () => {
    const rest = await a.rest('POST', '/applications', { as: ALICE, body: { name: 'taken' } });
    expectProblem(rest, 409, 'user "alice" already has an application named "taken"');
    // --json: the same text as one JSON object on stdout
    const r = await cli('app', 'create', 'taken', '--owner', 'alice', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: rest.json.detail });
  });

  it('an unknown tier, for an application and for an API', async () => {
    const args = ['api', 'create', '--name', 'Maps', '--context', '/maps', '--version', 'v1', '--production-url', 'http://backend.internal/maps', '--tiers', 'Gold,Platinum'];
    // the two CLI processes at once: each is mostly Node's start-up
    const [appCli, apiCli] = await Promise.all([cli('app', 'create', 'tiered', '--owner', 'alice', '--tier', 'Platinum'), cli(...args)]);
    const rest = await a.rest('POST', '/applications', { as: ALICE, body: { name: 'tiered', tier: 'Platinum' } });
    expectProblem(rest, 400, 'unknown tier "Platinum": configured tiers are Gold, Silver, Bronze, Unlimited', 'tier');
    expect(cliRefusal(appCli)).toBe(rest.json.detail);

    const restApi = await a.rest('POST', '/apis', { as: PUB, body: { name: 'Maps', context: '/maps', version: 'v1', productionUrl: 'http://backend.internal/maps', tiers: ['Gold', 'Platinum'] } });
    expectProblem(restApi, 400, 'unknown tier "Platinum": configured tiers are Gold, Silver, Bronze, Unlimited', 'tiers');
    expect(cliRefusal(apiCli)).toBe(restApi.json.detail);
  });

  it('a context deeper than the gateway routes, and a route overlapping another API (409)', async () => {
    const create = (context: string, version: string) => ['api', 'create', '--name', 'Deep', '--context', context, '--version', version, '--production-url', 'http://backend.internal/deep'];
    const [deepCli, overlapCli] = await Promise.all([cli(...create('/a/b/c/d/e', 'v1')), cli(...create('/weather/v1', 'v2'))]);
    const deep = await a.rest('POST', '/apis', { as: PUB, body: { name: 'Deep', context: '/a/b/c/d/e', version: 'v1', productionUrl: 'http://backend.internal/deep' } });
    expectProblem(deep, 400, /^context "\/a\/b\/c\/d\/e" has 5 path segments: the gateway routes contexts of at most 4/, 'context');
    expect(cliRefusal(deepCli)).toBe(deep.json.detail);
    const overlap = await a.rest('POST', '/apis', { as: PUB, body: { name: 'Deep', context: '/weather/v1', version: 'v2', productionUrl: 'http://backend.internal/deep' } });
    expectProblem(overlap, 409, /^context \/weather\/v1 with version v2 overlaps API Weather:v1 \(context \/weather, version v1\)/, 'context');
    expect(cliRefusal(overlapCli)).toBe(overlap.json.detail);
  });

  it('neither interface created anything it refused', async () => {
    const names = ok(await a.rest('GET', '/applications', { as: ALICE })).items.map((x: { name: string }) => x.name);
    expect(names).toEqual(['taken']);
    const apis = ok(await a.rest('GET', '/apis', { as: PUB })).items.map((x: { name: string }) => x.name);
    expect(apis).toEqual(['Weather']);
  });
});
