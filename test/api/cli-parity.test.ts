import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_APPLICATION_TIER } from '../../src/manage/index.js';
import { keyStore } from '../saml/keys.js';
import { gatehouse } from '../support/cli.js';
import { admin } from '../support/server.js';
import { ALICE, PUB, ROOT, expectProblem, ok, startApiServer, type ApiServer } from './support.js';

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

/** The CLI's refusal with --json: exit 1, one {"error"} object on stdout, nothing on stderr; the message. */
function cliJsonRefusal(r: { code: number; stdout: string; stderr: string }): string {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toBe('');
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  const answer = JSON.parse(r.stdout);
  expect(Object.keys(answer)).toEqual(['error']);
  return answer.error;
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

  it('a role there is not: user add and set-role say what the API says (the CLI has no list of its own)', async () => {
    const rest = await a.rest('POST', '/users', { as: ROOT, body: { username: 'carol', password: 'carol-password', role: 'root' } });
    expectProblem(rest, 400, 'invalid role "root": one of subscriber, publisher, admin', 'role');
    const [addJson, add, setRole] = await Promise.all([
      cli('user', 'add', 'carol', '--password', 'carol-password', '--role', 'root', '--json'),
      cli('user', 'add', 'carol', '--password', 'carol-password', '--role', 'root'),
      cli('user', 'set-role', 'alice', 'root', '--json'),
    ]);
    expect(cliJsonRefusal(addJson)).toBe(rest.json.detail);
    expect(cliRefusal(add)).toBe(rest.json.detail);
    expect(cliJsonRefusal(setRole)).toBe(rest.json.detail);
    // without --role: the service's default
    const created = await cli('user', 'add', 'carol', '--password', 'carol-password', '--json');
    expect(JSON.parse(created.stdout)).toMatchObject({ username: 'carol', role: 'subscriber' });
    const help = await cli('user', 'add', '--help');
    expect(help.stdout).toMatch(/--role <role>\s+the user's role: subscriber, publisher, admin \(default:\s+subscriber\)/);
  });

  it('a key type in any case is the API\'s; one there is not, or a key not generated, gets the API\'s answer', async () => {
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'typed' } }), 201);
    const generated = await cli('app', 'keys', 'typed', '--owner', 'alice', '--type', 'Production', '--json');
    expect(generated.code, generated.stdout).toBe(0);
    expect(JSON.parse(generated.stdout)).toMatchObject({ keyType: 'PRODUCTION', consumerSecret: expect.any(String) });
    expect(ok(await a.rest('GET', `/applications/${app.id}/keys/Production`, { as: ALICE })).consumerKey).toBe(JSON.parse(generated.stdout).consumerKey);

    const restBad = await a.rest('GET', `/applications/${app.id}/keys/staging`, { as: ALICE });
    expectProblem(restBad, 400, 'invalid key type "staging": PRODUCTION or SANDBOX', 'keyType');
    const restNoKey = await a.rest('POST', `/applications/${app.id}/keys/sandbox/revoke-tokens`, { as: ALICE });
    expectProblem(restNoKey, 404, 'the application has no SANDBOX key yet; generate it first');
    const [keysBad, revokeBad, revokeNoKey, revokeNoKeys, revokeBoth] = await Promise.all([
      cli('app', 'keys', 'typed', '--owner', 'alice', '--type', 'staging', '--json'),
      cli('app', 'revoke-tokens', 'typed', '--owner', 'alice', '--type', 'staging'),
      cli('app', 'revoke-tokens', 'typed', '--owner', 'alice', '--type', 'sandbox', '--json'),
      cli('app', 'revoke-tokens', 'taken', '--owner', 'alice', '--json'),
      cli('app', 'revoke-tokens', 'typed', '--owner', 'alice', '--json'),
    ]);
    expect(cliJsonRefusal(keysBad)).toBe(restBad.json.detail);
    expect(cliRefusal(revokeBad)).toBe(restBad.json.detail);
    expect(cliJsonRefusal(revokeNoKey)).toBe(restNoKey.json.detail);
    expect(cliJsonRefusal(revokeNoKeys)).toBe('the application has no keys yet: there are no tokens to revoke');
    expect(JSON.parse(revokeBoth.stdout)).toEqual({ application: 'typed', owner: 'alice', revoked: [{ consumerKey: expect.any(String), keyType: 'PRODUCTION', revokedGrants: 0 }] });
  });

  it('app keys: --regenerate of a key never generated is refused as regenerateSecret refuses it, not generated', async () => {
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'secretless' } }), 201);
    const rest = await a.rest('POST', `/applications/${app.id}/keys/SANDBOX/secret`, { as: ALICE });
    expectProblem(rest, 404, 'the application has no SANDBOX key yet; generate it first');
    const [json, text] = await Promise.all([
      cli('app', 'keys', 'secretless', '--owner', 'alice', '--type', 'sandbox', '--regenerate', '--json'),
      cli('app', 'keys', 'secretless', '--owner', 'alice', '--type', 'sandbox', '--regenerate', '--public'),
    ]);
    expect(cliJsonRefusal(json)).toBe(rest.json.detail);
    expect(cliRefusal(text)).toBe(rest.json.detail);
    expectProblem(await a.rest('GET', `/applications/${app.id}/keys/SANDBOX`, { as: ALICE }), 404, 'the application has no SANDBOX key yet; generate it first');
  });

  it('app keys on a public client says it has no secret (no hint at --regenerate, which the API refuses)', async () => {
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'spa' } }), 201);
    ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { public: true } }), 201);
    const rest = await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/secret`, { as: ALICE });
    expectProblem(rest, 409, 'the PRODUCTION key of this application is a public client: it has no secret to regenerate');
    const [shown, regenerate] = await Promise.all([cli('app', 'keys', 'spa', '--owner', 'alice'), cli('app', 'keys', 'spa', '--owner', 'alice', '--regenerate')]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('consumer secret: none (public client)\n');
    expect(shown.stdout).not.toContain('--regenerate');
    expect(cliRefusal(regenerate)).toBe(rest.json.detail);
  });

  it("app keys --json names the validity as the API does (validitySeconds, previousValiditySeconds)", async () => {
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'timed' } }), 201);
    ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE }), 201);
    const r = await cli('app', 'keys', 'timed', '--owner', 'alice', '--validity', '600', '--json');
    expect(r.code, r.stdout).toBe(0);
    const cliAnswer = JSON.parse(r.stdout);
    expect(cliAnswer).toEqual({ consumerKey: expect.any(String), keyType: 'PRODUCTION', validitySeconds: 600, previousValiditySeconds: null });
    const restAnswer = ok(await a.rest('PATCH', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { validitySeconds: 900 } }));
    expect(restAnswer).toMatchObject({ consumerKey: cliAnswer.consumerKey, validitySeconds: 900, previousValiditySeconds: 600 });
    expect(Object.keys(restAnswer)).toEqual(expect.arrayContaining(Object.keys(cliAnswer)));
    const shown = JSON.parse((await cli('app', 'keys', 'timed', '--owner', 'alice', '--json')).stdout);
    expect(shown).toEqual({ consumerKey: cliAnswer.consumerKey, keyType: 'PRODUCTION', validitySeconds: 900 });
  });

  it('a timeout or a validity that is not plain digits is refused in the words the portal shows, quoted as typed', async () => {
    ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'digits' } }), 201);
    const raws = [' 100', '1e3', '-5'];
    const timeouts = await Promise.all(raws.map((raw) => cli('api', 'create', '--name', 'Digits', '--context', '/digits', '--version', 'v1', '--production-url', 'http://backend.internal/v1', '--timeout', raw)));
    const validities = await Promise.all(raws.map((raw) => cli('app', 'keys', 'digits', '--owner', 'alice', '--validity', raw)));
    raws.forEach((raw, i) => {
      expect(cliRefusal(timeouts[i]!)).toBe(`invalid timeout "${raw}": 1 to 600000 ms`);
      expect(cliRefusal(validities[i]!)).toBe(`invalid validity "${raw}": a whole number of seconds from 1 to 315360000`);
    });
    // refused before anything was made: no key (and no API: the last test)
    const digits = ok(await a.rest('GET', '/applications', { as: ALICE })).items.find((x: { name: string }) => x.name === 'digits');
    expect(ok(await a.rest('GET', `/applications/${digits.id}`, { as: ALICE })).keys).toEqual([]);
  });

  it('app keys --validity on a key that has one: the text goes to the service, the same lifetime again records nothing', async () => {
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'relived' } }), 201);
    ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { validitySeconds: 900 } }), 201);
    const audits = async () => ok(await a.rest('GET', '/audit-events?limit=200', { as: ROOT })).items.filter((e: { operation: string; targetId: string }) => e.operation === 'updateKeys' && e.targetId === app.id).length;
    for (const raw of ['null', ' 900', '9e2']) expect(cliRefusal(await cli('app', 'keys', 'relived', '--owner', 'alice', '--validity', raw))).toBe(`invalid validity "${raw}": a whole number of seconds from 1 to 315360000`);
    const same = await cli('app', 'keys', 'relived', '--owner', 'alice', '--validity', '0900');
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('validity:        900 s\n');
    expect(same.stdout).not.toContain('changed');
    expect(await audits()).toBe(0);
    const changed = await cli('app', 'keys', 'relived', '--owner', 'alice', '--validity', '600');
    expect(changed.stdout).toContain('validity:        changed from 900 s to 600 s for tokens issued from now on\n');
    expect(await audits()).toBe(1);
  });

  it('idp update with audiences and --no-audiences at once is refused in the words the portal shows; nothing changes', async () => {
    const keys = keyStore();
    try {
      const issuer = 'https://idp.parity.example/saml';
      await a.s.server.management.identityProviders.create(admin, { issuer, certificates: [keys.make('parity-idp', 'ec').certPem], audiences: ['https://sp.example/kept'] });
      for (const order of [['--audience', 'https://sp.example/new', '--no-audiences'], ['--no-audiences', '--audience', 'https://sp.example/new']]) {
        expect(cliRefusal(await cli('idp', 'update', '--issuer', issuer, ...order))).toBe('List audiences or remove them, not both.');
      }
      expect((await a.s.server.management.identityProviders.byIssuer(admin, issuer)).audiences).toEqual(['https://sp.example/kept']);
    } finally {
      keys.cleanup();
    }
  });

  it('the tiers, with their limits: the same list through the CLI and the API, for any signed-in user', async () => {
    const rest = ok(await a.rest('GET', '/tiers', { as: ALICE }));
    expect(rest.items).toEqual([
      { name: 'Gold', requests: 5000, perSeconds: 60, description: '5000 requests per minute' },
      { name: 'Silver', requests: 2000, perSeconds: 60, description: '2000 requests per minute' },
      { name: 'Bronze', requests: 1000, perSeconds: 60, description: '1000 requests per minute' },
      { name: 'Unlimited', requests: null, perSeconds: null, description: 'no limit' },
    ]);
    expect(rest.next).toBeNull();
    const [json, human] = await Promise.all([cli('tier', 'list', '--json'), cli('tier', 'list')]);
    expect(JSON.parse(json.stdout)).toEqual({ items: rest.items });
    expect(human.stdout).toBe('Gold\t5000 requests per minute\nSilver\t2000 requests per minute\nBronze\t1000 requests per minute\nUnlimited\tno limit\n');
    const paged = ok(await a.rest('GET', '/tiers?limit=3', { as: PUB }));
    expect(paged.items.map((t: { name: string }) => t.name)).toEqual(['Gold', 'Silver', 'Bronze']);
    expect(ok(await a.rest('GET', `/tiers?limit=3&cursor=${paged.next}`, { as: PUB })).items.map((t: { name: string }) => t.name)).toEqual(['Unlimited']);
    expect((await a.rest('GET', '/tiers')).status).toBe(401);
  });

  it("an application made without a tier gets the service's default, through either; --help names it", async () => {
    const [made, help] = await Promise.all([cli('app', 'create', 'untiered', '--owner', 'alice', '--json'), cli('app', 'create', '--help')]);
    expect(JSON.parse(made.stdout).tier).toBe(DEFAULT_APPLICATION_TIER);
    expect(ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'untiered-rest' } }), 201).tier).toBe(DEFAULT_APPLICATION_TIER);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(`--tier <tier> throttling tier of the application (all its calls, across APIs; default: ${DEFAULT_APPLICATION_TIER})`);
  });

  it('neither interface created anything it refused', async () => {
    const names = ok(await a.rest('GET', '/applications', { as: ALICE })).items.map((x: { name: string }) => x.name);
    expect(names).toEqual(['digits', 'relived', 'secretless', 'spa', 'taken', 'timed', 'typed', 'untiered', 'untiered-rest']);
    const apis = ok(await a.rest('GET', '/apis', { as: PUB })).items.map((x: { name: string }) => x.name);
    expect(apis).toEqual(['Weather']);
  });
});

describe('--json refusals of the command line itself are JSON too', () => {
  it('a missing required option, an unknown option (before or after --json), an extra argument, an unknown command', async () => {
    const [missing, missingText, unknownAfter, unknownBefore, extra, command] = await Promise.all([
      cli('app', 'create', 'nameless', '--json'),
      cli('app', 'create', 'nameless'),
      cli('app', 'create', 'nameless', '--owner', 'alice', '--json', '--colour', 'blue'),
      cli('app', 'create', 'nameless', '--owner', 'alice', '--colour', 'blue', '--json'),
      cli('user', 'show', 'alice', 'bob', '--json'),
      cli('app', 'frobnicate', '--json'),
    ]);
    expect(cliJsonRefusal(missing)).toBe("required option '--owner <username>' not specified");
    // without --json: commander's line on stderr, nothing on stdout, the same exit status
    expect(missingText).toMatchObject({ code: 1, stdout: '', stderr: "error: required option '--owner <username>' not specified\n" });
    expect(cliJsonRefusal(unknownAfter)).toBe("unknown option '--colour'");
    expect(cliJsonRefusal(unknownBefore)).toBe("unknown option '--colour'");
    expect(cliJsonRefusal(extra)).toBe("too many arguments for 'show'. Expected 1 argument but got 2.");
    expect(cliJsonRefusal(command)).toBe("unknown command 'frobnicate'");
    expect(ok(await a.rest('GET', '/applications', { as: ALICE })).items.map((x: { name: string }) => x.name)).not.toContain('nameless');
  });

  it('idp add without --cert is a missing required option (its --help shows no default for it)', async () => {
    const [missing, help] = await Promise.all([cli('idp', 'add', '--issuer', 'https://idp.example.org/saml', '--json'), cli('idp', 'add', '--help')]);
    expect(cliJsonRefusal(missing)).toBe("required option '--cert <pemFile>' not specified");
    const cert = help.stdout.replace(/\s+/g, ' ').match(/--cert <pemFile> (.*?) --audience/)?.[1];
    expect(cert).toBe("the IdP's signing certificate (repeat for a key rollover)");
  });

  it('--help still prints the help and exits 0', async () => {
    const r = await cli('app', 'create', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: gatehouse app create/);
  });

  it("app tokens --help says what an id is, as the API's document does (not the token's SHA-256 alone, not a token)", async () => {
    const r = await cli('app', 'tokens', '--help');
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      "list the application's live access tokens (metadata only; an id is the token's lookup key, not a token: its issue time in 10 hex digits, then its base64url SHA-256, 53 characters)",
    );
  });
});
