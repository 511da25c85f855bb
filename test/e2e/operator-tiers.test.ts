import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, admin, startTestServer, TEST_KEYS_SECRET } from '../support/server.js';
import { freePortOffset } from '../support/ports.js';
import { kill, spawnStart, type StartedProcess } from '../support/start-process.js';

/** The in-process server that made the data encrypted its signing keys with the tests' secret. */
const SAME_KEYS = { GATEHOUSE_KEYS_SECRET: TEST_KEYS_SECRET };

/**
 * Issue 14 item 5: a tier removed from the configuration while subscriptions and applications
 * still use it is found at start (one warning per tier, naming them), not at the first request.
 */
describe('a tier removed from the configuration while in use (CLI)', () => {
  let dir: string;
  let p: StartedProcess | undefined;
  let data = '';
  const at = (...parts: string[]) => path.join(dir, ...parts);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-tiers-'));
  });
  afterAll(() => {
    kill(p);
    rmSync(dir, { recursive: true, force: true });
    if (data) rmSync(data, { recursive: true, force: true });
  });

  it('warns at start naming the subscriptions and applications on the missing tier; configured tiers stay quiet', async () => {
    const withTrial = at('with-trial.yaml');
    writeFileSync(withTrial, 'throttling:\n  tiers:\n    Trial: { requests: 5, perSeconds: 60 }\n');
    // The data, made by a node that has Trial (in-process: the CLI would take seconds per command).
    const s = await startTestServer('sqlite', { throttling: { tiers: { Trial: { requests: 5, perSeconds: 60 } } } });
    data = s.db.dataDir;
    await addUser(s, 'dave', 'dave-pass');
    const m = s.server.management;
    const trialApp = await m.applications.create(admin, { owner: 'dave', name: 'trial-app', tier: 'Trial' });
    const goldApp = await m.applications.create(admin, { owner: 'dave', name: 'gold-app' });
    const api = await m.apis.create(admin, { name: 'Weather', context: '/weather', version: 'v1', productionUrl: 'http://127.0.0.1:9/', tiers: ['Trial', 'Gold'] });
    await m.apis.publish(admin, api.id);
    await m.subscriptions.create(admin, { applicationId: goldApp.id, apiId: api.id, tier: 'Trial' });
    await m.subscriptions.create(admin, { applicationId: trialApp.id, apiId: api.id, tier: 'Gold' });
    await s.server.close();

    // The same data, started with a configuration that no longer has Trial.
    p = await spawnStart(['--data-dir', data, '--port-offset', String(await freePortOffset())], SAME_KEYS);
    const warnings = p.logs().filter((l) => l.event === 'tier_not_configured');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, tier: 'Trial', subscriptions: 1, applications: 1 });
    expect(warnings[0]!.msg).toBe(
      'tier "Trial" is not configured (throttling.tiers) but is still used by subscriptions gold-app (dave) to Weather v1; applications trial-app (dave): ' +
        'their requests are refused with 403 until the tier is configured again or they move to another tier',
    );
    await p.waitFor(/passwords over plain HTTP/); // logged in the tick that installs the SIGTERM handler
    p.child.kill('SIGTERM');
    expect((await p.exited(15_000)).code).toBe(0);

    // Configured again: no warning.
    p = await spawnStart(['--config', withTrial, '--data-dir', data, '--port-offset', String(await freePortOffset())], SAME_KEYS);
    expect(p.output()).toContain('"msg":"gatehouse started"');
    expect(p.logs().filter((l) => l.event === 'tier_not_configured')).toEqual([]);
    await p.waitFor(/passwords over plain HTTP/);
    p.child.kill('SIGTERM');
    expect((await p.exited(15_000)).code).toBe(0);
  }, 120_000);
});
