// Renders the suite's results (latest.json's shape) as a Markdown table and a hand-written SVG
// chart: one row per target, throughput bars on the left, p99 bars on the right.
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');

export function renderMarkdown(r) {
  const m = r.machine;
  const L = [];
  L.push(`Run ${m.date.slice(0, 16).replace('T', ' ')} UTC · ${m.cpu} × ${m.nproc} (nproc ${m.nproc}) · Node ${m.node} · ${m.os} · ${m.memoryGiB} GiB RAM · load ${m.loadavg.join(' ')} → ${r.loadavgEnd.join(' ')} (shared machine: read the ratios)`);
  L.push('');
  L.push(`${r.settings.rounds} rounds, order reversed each round; per target ${r.settings.warmupSeconds} s warm-up${r.settings.passwordWarmupSeconds != null && r.scenarios.some((s) => s.id === 'pw') ? ` (${r.settings.passwordWarmupSeconds} s in the password scenario)` : ''} + ${r.settings.durationSeconds} s measured, ${r.settings.connections} connections, ${r.settings.loadGenerator}. Peak RSS: the server process, sampled every 100 ms while measured.`);
  L.push('');
  L.push('| Scenario | Target | req/s | p50 ms | p99 ms | server CPU µs/req | peak RSS MB | req/s per round |');
  L.push('|---|---|---:|---:|---:|---:|---:|---|');
  for (const s of r.scenarios) for (const t of s.targets) L.push(`| ${s.title} | ${t.label} | ${f(t.rps)} | ${f(t.p50, 1)} | ${f(t.p99, 1)} | ${f(t.cpuPerReq)} | ${f(t.peakRssMB)} | ${t.perRound.join(', ')} |`);
  L.push('');
  L.push('Ratios: req/s as measured (median of per-round ratios), and CPU efficiency (the reference\'s server CPU µs per request over ours, the steadier figure when other work shares the cores; for PostgreSQL it leaves out the database server\'s own CPU).');
  L.push('');
  L.push('| Ratio | req/s | per round | CPU efficiency | aim | met (req/s / CPU) |');
  L.push('|---|---:|---|---:|---:|---|');
  const name = (id) => r.scenarios.flatMap((s) => s.targets.map((t) => [t.id, `${t.label}`])).find(([i]) => i === id)?.[1] ?? id;
  for (const s of r.scenarios) {
    const yn = (x) => (x == null ? '–' : x ? 'yes' : '**no**');
    for (const q of s.ratios) L.push(`| ${s.title}: ${name(q.of)} / ${name(q.to)} | ${f(q.median, 2)}× | ${q.perRound.map((x) => f(x, 2)).join(', ')} | ${f(q.cpuEfficiency, 2)}× | ${q.aim == null ? '–' : `≥ ${q.aim}`} | ${q.aim == null ? '–' : `${yn(q.met)} / ${yn(q.metByCpu)}`} |`);
    const pp = s.pacedP99Ms;
    if (pp) L.push(`| ${s.title}: p99 added over ${name(pp.to)} at a fixed ${pp.rate} req/s (${pp.connections} connections, µs resolution, median of ${pp.slices} paired 1-s slices) | ${f(pp.median, 2)} ms | | | < ${pp.aimBelow} ms | ${yn(pp.median < pp.aimBelow)} |`);
    if (s.addedP99Ms) L.push(`| ${s.title}: p99 added over ${name(s.addedP99Ms.to)} (ms, autocannon 1 ms resolution) | ${f(s.addedP99Ms.median, 1)} ms | | | < ${s.addedP99Ms.aimBelow} ms | ${yn(s.addedP99Ms.median < s.addedP99Ms.aimBelow)} |`);
  }
  L.push('');
  for (const s of r.scenarios) if (s.pacedP99Ms) {
    const pp = s.pacedP99Ms;
    const a = pp.targets[pp.of];
    const b = pp.targets[pp.to];
    L.push(`At a fixed ${pp.rate} req/s (${s.title}): ${name(pp.of)} p50 ${f(a.p50, 2)} ms, p99 ${f(a.p99, 2)} ms (median slice p99 ${f(a.sliceP99Median, 2)}); ${name(pp.to)} p50 ${f(b.p50, 2)} ms, p99 ${f(b.p99, 2)} ms (median slice p99 ${f(b.sliceP99Median, 2)}). At saturation p99 is mostly the queue: the throughput ratio shows it again.`, '');
  }
  for (const s of r.scenarios) for (const t of s.targets) if (t.inFlightPerRound) L.push(`${t.label}: verifications in flight in the best window, per round: ${t.inFlightPerRound.join(', ')}.`, '');
  if (r.skipped.length) L.push(...r.skipped.map((x) => `- Skipped: ${x}`), '');
  L.push(r.failed ? `**INVALID RUN: ${r.failed} non-2xx responses or errors while measuring.**` : 'Every measured response was 2xx.');
  return `${L.join('\n')}\n`;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderSvg(r) {
  const rows = r.scenarios.flatMap((s) => s.targets);
  const rowH = 18;
  const groupGap = 10;
  const labelW = 430;
  const barW = 300;
  const top = 48;
  const groups = r.scenarios.length;
  const height = top + (rows.length + groups) * rowH + groups * groupGap + 30;
  const width = labelW + 2 * barW + 140;
  const maxRps = Math.max(...rows.map((t) => t.rps).filter(Number.isFinite));
  const maxP99 = Math.max(...rows.map((t) => t.p99).filter(Number.isFinite));
  const x1 = labelW;
  const x2 = labelW + barW + 70;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  o.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  o.push(`<text x="8" y="16" font-size="13" font-weight="bold">Gatehouse bench ${esc(r.machine.date.slice(0, 16).replace('T', ' '))} UTC · ${esc(r.machine.cpu)} × ${r.machine.nproc} · Node ${esc(r.machine.node)}</text>`);
  o.push(`<text x="${x1}" y="38" font-weight="bold">throughput, req/s (median of rounds)</text>`);
  o.push(`<text x="${x2}" y="38" font-weight="bold">p99 latency, ms</text>`);
  let y = top;
  for (const s of r.scenarios) {
    y += groupGap;
    o.push(`<text x="8" y="${y + 13}" font-weight="bold">${esc(s.title)}</text>`);
    y += rowH;
    s.targets.forEach((t) => {
      const gh = t.id.startsWith('gh-');
      const color = gh ? '#2b6cb0' : t.id.startsWith('floor') || t.id === 'argon2' ? '#999' : '#dd8452';
      o.push(`<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${esc(t.label)}</text>`);
      const w1 = Number.isFinite(t.rps) ? (t.rps / maxRps) * barW : 0;
      const w2 = Number.isFinite(t.p99) ? (t.p99 / maxP99) * barW : 0;
      o.push(`<rect x="${x1}" y="${y + 3}" width="${w1.toFixed(1)}" height="${rowH - 5}" fill="${color}"/>`);
      o.push(`<text x="${x1 + w1 + 4}" y="${y + 13}">${f(t.rps)}</text>`);
      o.push(`<rect x="${x2}" y="${y + 3}" width="${w2.toFixed(1)}" height="${rowH - 5}" fill="${color}"/>`);
      o.push(`<text x="${x2 + w2 + 4}" y="${y + 13}">${f(t.p99, 1)}</text>`);
      y += rowH;
    });
  }
  o.push(`<text x="8" y="${height - 10}" fill="#555">blue: Gatehouse · orange: peers and proxies · grey: floors and the argon2 ceiling · ${r.settings.connections} connections, ${r.settings.rounds} interleaved rounds; ratios in latest.md</text>`);
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
