import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startProcess } from '../support/cli.js';
import { freePort, freePortOffset } from '../support/ports.js';

const run = promisify(execFile);

/**
 * The README's "The admin REST API" walkthrough, run as written: its shell block is taken from
 * the README itself and run by bash against a `gatehouse start` process, with only the ports
 * moved (a port offset, and a free port for the example backend on 9000) and `npx gatehouse`
 * pointed at this build and the server's data directory.
 */
function walkthroughBlock(): string {
  const readme = readFileSync(path.resolve('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The admin REST API'));
  const body = section.slice(0, section.indexOf('\n## ', 5));
  const m = /```sh\n([\s\S]*?)```/.exec(body);
  if (!m) throw new Error('no sh block in the README section "The admin REST API"');
  return m[1]!;
}

describe('README: the admin REST API walkthrough', () => {
  let dir: string;
  let offset: number;
  let backendPort: number;
  let backend: Server;
  let server: { child: ChildProcess; output: () => string };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-api-walkthrough-'));
    backendPort = await freePort();
    backend = createServer((q, s) => s.end(`backend saw ${q.url}\n`)).listen(backendPort, '127.0.0.1');
    offset = await freePortOffset();
    // At debug level: the log of the whole walkthrough is checked for secrets below.
    server = await startProcess(['--data-dir', path.join(dir, 'data'), '--port-offset', String(offset)], `http://localhost:${8280 + offset}/health/ready`, { GATEHOUSE_LOG_LEVEL: 'debug' }, 60_000);
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    backend?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs from nothing to a call and to a manage token, each step answering what the README says', async () => {
    const script = walkthroughBlock()
      .replaceAll('npx gatehouse', `node ${CLI} --data-dir ${path.join(dir, 'data')}`)
      .replace(/localhost:(9443|8243|8280)\b/g, (_m, p: string) => `localhost:${Number(p) + offset}`)
      .replaceAll('127.0.0.1:9000', `127.0.0.1:${backendPort}`);
    expect(script).toContain('json ');
    // The walkthrough's `json` helper (README, first walkthrough); stop at the first failing step.
    const prelude = `set -euo pipefail\njson() { node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8')).$1"; }\n`;
    // After the block (not in the README): the tokens it got, to look for them in the log.
    const epilogue = 'echo "SECRETS $TOKEN $MANAGE"\n';
    const { stdout } = await run('bash', ['-c', prelude + script + epilogue], { cwd: dir, timeout: 60_000 });
    const tokens = /^SECRETS (\S+) (\S+)$/m.exec(stdout)!.slice(1);
    // every step printed what the README promises
    expect(stdout).toContain('"username":"pat","role":"publisher"');
    expect(stdout).toContain('"username":"sam","role":"subscriber"');
    const issued = /^\{"consumerKey".*\}$/m.exec(stdout);
    expect(JSON.parse(issued![0])).toEqual({ consumerKey: expect.any(String), consumerSecret: expect.any(String), keyType: 'PRODUCTION' });
    expect(stdout).toMatch(/"tier":"Gold","status":"ACTIVE"/);
    expect(stdout).toContain('backend saw /api/items');
    expect(stdout).toContain('\n{"username":"sam","role":"subscriber"}\nSECRETS ');
    expect(stdout).not.toContain('problem');
    // No password, consumer secret or token in any log line of the server.
    const log = server.output();
    expect(log).toContain('"level":20');
    const keys = JSON.parse(/^\{"consumerKey".*\}$/m.exec(stdout)![0]);
    for (const secret of ['admin-password', 'publisher-password', 'sam-password', keys.consumerSecret, ...tokens]) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/authorization":\s*"(Basic|Bearer) /i);
  });
});
