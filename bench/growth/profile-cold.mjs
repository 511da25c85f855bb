#!/usr/bin/env node
// CPU profile of the node serving cold validations (each gateway call with a stored token the
// gateway has not seen), warm gateway calls or issuance: node bench/growth/profile-cold.mjs [cold|warm|issuance] [seconds]
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { forkReady, ROOT } from '../suite/lib.mjs';
import { summarizeProfile } from '../token/profile-summary.mjs';

const [kind = 'cold', seconds = '10'] = process.argv.slice(2);
const dir = path.join(ROOT, 'bench/token/profiles');
mkdirSync(dir, { recursive: true });
const { fork } = await import('node:child_process');
const backend = fork(path.join(ROOT, 'bench/gateway/backend.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
const { port } = await new Promise((r) => backend.once('message', r));
const s = await forkReady(path.join(ROOT, 'bench/suite/gatehouse-server.mjs'), { env: { BACKEND_URL: `http://127.0.0.1:${port}` }});
const tokens = (await s.call({ op: 'mint', kind: 'access', n: 40000 })).values;
let i = 0;
const opts = kind === 'warm'
  ? { url: `${s.info.http}${s.info.gatewayPath}`, headers: { authorization: `Bearer ${s.info.gatewayToken}` } }
  : kind === 'cold'
  ? { url: `${s.info.http}${s.info.gatewayPath}`, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${tokens[i++ % tokens.length]}` } }) }] }
  : { url: `${s.info.http}/token`, method: 'POST', headers: { authorization: s.info.basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' };
await autocannon({ ...opts, connections: 50, duration: 2 });
const file = path.join(dir, `growth-${kind}-${Date.now()}.cpuprofile`);
await s.call({ op: 'profile-start' });
const r = await autocannon({ ...opts, connections: 50, duration: Number(seconds) });
await s.call({ op: 'profile-stop', file });
console.log(`${kind}: ${(r.requests.total / r.duration).toFixed(0)} req/s, p99 ${r.latency.p99} ms, non2xx ${r.non2xx}, statuses ${Object.keys(r.statusCodeStats ?? {})}`);
await s.stop();
backend.kill();
console.log(summarizeProfile(file));
