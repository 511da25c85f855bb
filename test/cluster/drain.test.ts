import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { kill, spawnStart, type StartedProcess } from '../support/start-process.js';

/**
 * Issue 13 item 4: on SIGTERM a node turns /health/ready 503 at once and keeps serving for
 * listeners.drainDelayMs (a load balancer takes it out of rotation), then finishes what is in
 * flight and exits 0.
 */
describe('SIGTERM with listeners.drainDelayMs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-drain-'));
  let p: StartedProcess | undefined;
  afterAll(() => {
    kill(p);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers /health/ready 503 "draining" while it still serves, then exits 0', async () => {
    writeFileSync(path.join(dir, 'gatehouse.yaml'), `dataDir: ${dir}\nlisteners: { host: 127.0.0.1, portal: 0, https: 0, http: 0, drainDelayMs: 2000 }\n`);
    p = await spawnStart(['--config', path.join(dir, 'gatehouse.yaml')]);
    await p.waitFor(/"msg":"gatehouse started"/, 60_000);
    const ports = (p.logs().find((l) => l.msg === 'gatehouse started') as unknown as { ports: { http: number } }).ports;
    const base = `http://127.0.0.1:${ports.http}`;
    expect((await call(`${base}/health/ready`)).status).toBe(200);
    const signalled = Date.now();
    p.child.kill('SIGTERM');
    await p.waitFor(/shutting down: \/health\/ready answers 503; serving 2000 ms more/, 5000);
    const ready = await call(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({ status: 'draining', database: 'sqlite' });
    // Still serving everything else while the load balancer notices.
    expect((await call(`${base}/health/live`)).status).toBe(200);
    expect((await call(`${base}/.well-known/jwks.json`)).json.keys).toHaveLength(2);
    const exit = await p.exited(20_000);
    expect(exit.code).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(2000);
    expect(p.output()).toContain('draining: closing the listeners, finishing requests in flight');
  }, 90_000);
});
