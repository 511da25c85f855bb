import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormAgent, hidden } from '../support/authorize.js';
import { basic, call } from '../support/http.js';
import { gatehouse } from '../support/cli.js';
import { addUser, startTestServer, type TestServer } from '../support/server.js';

/**
 * Tiers a configuration adds or overrides: the same list, in the same words, from the CLI (with
 * the same file), the admin API and the portal; the defaults first, then the added ones.
 */
const YAML = 'throttling:\n  tiers:\n    Gold: { requests: 50, perSeconds: 3600 }\n    Trial: { requests: 10, perSeconds: 90 }\n    Burst: { requests: 1, perSeconds: 1 }\n';
const TIERS = { Gold: { requests: 50, perSeconds: 3600 }, Trial: { requests: 10, perSeconds: 90 }, Burst: { requests: 1, perSeconds: 1 } };
const EXPECTED = [
  ['Gold', '50 requests per hour'],
  ['Silver', '2000 requests per minute'],
  ['Bronze', '1000 requests per minute'],
  ['Unlimited', 'no limit'],
  ['Trial', '10 requests per 90 seconds'],
  ['Burst', '1 request per second'],
];

describe('configured tiers through every interface', () => {
  let s: TestServer;
  let file: string;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { throttling: { tiers: TIERS } });
    await addUser(s, 'root', 'root-password', 'admin');
    file = path.join(s.db.dataDir, 'tiers.yaml');
    writeFileSync(file, YAML);
  });
  afterAll(async () => s?.close());

  it('the API, the CLI and the Admin page list the same tiers in the same words', async () => {
    const rest = await call(`${s.portal}/api/v1/tiers`, { headers: { authorization: basic('root', 'root-password') } });
    expect(rest.status).toBe(200);
    expect(rest.json.items.map((t: { name: string; description: string }) => [t.name, t.description])).toEqual(EXPECTED);
    expect(rest.json.items[4]).toEqual({ name: 'Trial', requests: 10, perSeconds: 90, description: '10 requests per 90 seconds' });
    const cli = await gatehouse(['--config', file, '--data-dir', s.db.dataDir, 'tier', 'list']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(EXPECTED.map(([n, d]) => `${n}\t${d}\n`).join(''));
    const agent = new FormAgent(s.portal);
    const signin = await agent.get('/store/signin');
    expect((await agent.post('/store/signin', { csrf: hidden(signin.text, 'csrf'), username: 'root', password: 'root-password', next: '/admin' })).status).toBe(303);
    const page = await agent.get('/admin/tiers');
    const rows = [...page.text.matchAll(/<tr><td data-label="Tier">([^<]+)<\/td><td data-label="Limit">([^<]+)<\/td><\/tr>/g)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(EXPECTED);
    // the application form offers each with its limit
    expect((await agent.get('/store/applications')).text).toContain('<option value="Trial">Trial: 10 requests per 90 seconds</option>');
  });
});
