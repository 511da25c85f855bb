#!/usr/bin/env node
// Issuance p99 during a cleanup pass, for one or more builds side by side (each tree must hold
// dist/ and bench/): each node gets --live live and --expired expired tokens through load.mjs,
// then client_credentials runs quiet, then again while a cleanup pass (cleanupExpired) runs.
//   node bench/growth/cleanup.mjs [--expired 150000] [--live 150000] [--duration 6] ROOT…
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { cannon, forkReady, ROOT } from '../suite/lib.mjs';

const { values: o, positionals } = parseArgs({ allowPositionals: true, options: { expired: { type: 'string', default: '150000' }, live: { type: 'string', default: '150000' }, duration: { type: 'string', default: '6' } } });
const roots = positionals.length ? positionals.map((p) => path.resolve(p)) : [ROOT];
const nodes = [];
for (const root of roots) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cleanup-'));
  const s = await forkReady(path.join(root, 'bench/suite/gatehouse-server.mjs'), { env: { BENCH_DATA_DIR: dir, BENCH_REUSE: '1' } });
  nodes.push({ root, dir, s });
}
await Promise.all(nodes.map(({ root, dir, s }) => promisify(execFile)(process.execPath, [path.join(root, 'bench/growth/load.mjs'), '--n', o.live, '--expired', o.expired, '--data-dir', dir, `--app-id=${s.info.applicationId}`, `--consumer-key=${s.info.consumerKey}`], { cwd: root })));
const D = Number(o.duration);
for (const n of nodes) {
  const t = { url: `${n.s.info.http}/token`, headers: { authorization: n.s.info.basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials', connections: 50 };
  await cannon({ ...t, duration: 2 });
  const quiet = await cannon({ ...t, duration: D });
  const pass = n.s.call({ op: 'cleanup' });
  const during = await cannon({ ...t, duration: D });
  const done = await pass;
  console.log(JSON.stringify({ root: n.root, deleted: done.deleted.access_tokens, passMs: Math.round(done.ms), quiet: { rps: Math.round(quiet.rps), p99: quiet.p99 }, during: { rps: Math.round(during.rps), p99: during.p99, failed: during.non2xx + during.errors } }));
  await n.s.stop();
  rmSync(n.dir, { recursive: true, force: true });
}
process.exit(0);
