// Summarizes a V8 .cpuprofile (from `node --cpu-prof`) as Markdown: where the server's CPU
// time went, by component (package / Node module / our dist file) and by function, plus the
// synchronous inclusive time of the token path's own functions.
//   node bench/token/profile-summary.mjs FILE.cpuprofile
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Which component a stack frame belongs to. */
export function component(cf) {
  const url = cf.url ?? '';
  const name = cf.functionName;
  if (!url) {
    if (name === '(idle)') return '(idle)';
    if (name === '(garbage collector)') return 'GC';
    if (name === '(program)') return '(program: V8/native, unattributed)';
    return `native: ${name || '(anonymous)'}`;
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `gatehouse ${url.slice(dist + 1)}`;
  if (url.startsWith('node:')) {
    const m = url.replace(/^node:(internal\/)?/, '');
    if (/^(crypto|webcrypto)/.test(m)) return 'node crypto';
    if (/^(http|_http|net|stream|streams|timers|dns|async_hooks|process|events|url|querystring|buffer|util|errors|validators)/.test(m) || /^(_http|net$|http$)/.test(m)) {
      return `node ${m.split('/')[0]}`;
    }
    return `node ${m.split('/')[0]}`;
  }
  return url;
}

export function summarizeProfile(file, { top = 25 } = {}) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  let total = 0;
  let idle = 0;
  for (const [id, t] of self) {
    total += t;
    if (byId.get(id).callFrame.functionName === '(idle)') idle += t;
  }
  const busy = total - idle;
  const pct = (t) => `${((100 * t) / busy).toFixed(1)}%`;
  const ms = (t) => (t / 1000).toFixed(0);

  const groups = new Map();
  const fns = new Map();
  for (const [id, t] of self) {
    const cf = byId.get(id).callFrame;
    if (cf.functionName === '(idle)') continue;
    const g = component(cf);
    groups.set(g, (groups.get(g) ?? 0) + t);
    const key = `${cf.functionName || '(anonymous)'} — ${g}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
  }

  // Synchronous inclusive time of named functions (a frame counts once per sample, however deep).
  const watch = [
    'authenticateClient', 'findClient', 'parseBasic', 'secretMatchesHash', 'sha256', 'formParams', 'token',
    'handle', 'issue', 'build', 'insert', 'randomToken', 'check', 'verifyPassword', 'status', 'findByUsername',
    'serialize', 'onSendEnd', 'parse', 'contentParser', 'compileQuery', 'executeQuery', 'runQuery', 'all', 'run', 'prepare',
  ];
  const incl = new Map(watch.map((w) => [w, 0]));
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    const seen = new Set();
    for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      const name = byId.get(id).callFrame.functionName;
      if (incl.has(name) && !seen.has(name)) {
        seen.add(name);
        incl.set(name, incl.get(name) + dt);
      }
    }
  }

  const out = [];
  out.push(`Sampled ${ms(total)} ms, of which busy (not idle) ${ms(busy)} ms; percentages below are of busy time.`, '');
  out.push('| Component (self time) | ms | share |', '|---|---:|---:|');
  for (const [g, t] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`| ${g} | ${ms(t)} | ${pct(t)} |`);
  out.push('', `| Top ${top} functions (self time) | ms | share |`, '|---|---:|---:|');
  for (const [f, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`| ${f.replaceAll('|', '\\|')} | ${ms(t)} | ${pct(t)} |`);
  out.push('', '| Function (synchronous inclusive; async continuations not included) | ms | share |', '|---|---:|---:|');
  for (const [f, t] of [...incl].filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1])) out.push(`| ${f} | ${ms(t)} | ${pct(t)} |`);
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of process.argv.slice(2)) console.log(`## ${f}\n\n${summarizeProfile(f)}\n`);
}
