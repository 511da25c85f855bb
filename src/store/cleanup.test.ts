import { describe, expect, it } from 'vitest';
import { inBatches } from './cleanup.js';

/** A remover over `rows` expired rows that costs `msPerRow` of blocking work per row (like a SQLite DELETE). */
function remover(rows: number, msPerRow: number) {
  const calls: Array<{ asked: number; ms: number }> = [];
  let left = rows;
  const remove = async (_now: number, n: number) => {
    const t0 = performance.now();
    const k = Math.min(n, left);
    while (performance.now() - t0 < k * msPerRow) { /* blocking, like better-sqlite3 */ }
    left -= k;
    calls.push({ asked: n, ms: performance.now() - t0 });
    return k;
  };
  return { remove, calls, left: () => left };
}

describe('inBatches', () => {
  it('shrinks slow batches so that none holds the event loop much past the target, and still removes everything', async () => {
    const r = remover(6000, 0.1); // 1000 rows would block for 100 ms
    const total = await inBatches(r.remove, 200, 10)(0, 1000);
    expect(total).toBe(6000);
    expect(r.left()).toBe(0);
    expect(r.calls[0]!.asked).toBe(250);
    // after the first few, every batch asks for at most ~2× what fits in 10 ms
    expect(Math.max(...r.calls.slice(4).map((c) => c.asked))).toBeLessThanOrEqual(200);
  });

  it('grows fast batches up to batchSize and stops at maxBatches × batchSize rows per pass', async () => {
    const r = remover(100_000, 0);
    const total = await inBatches(r.remove, 5, 10)(0, 1000);
    expect(total).toBe(5000);
    expect(Math.max(...r.calls.map((c) => c.asked))).toBe(1000);
  });

  it('pauses after each batch three times as long as it took: the pass holds the event loop at most a quarter of its time', async () => {
    const r = remover(3000, 0.01); // 3 ms batches of ~300 rows
    const t0 = performance.now();
    expect(await inBatches(r.remove, 200, 3)(0, 1000)).toBe(3000);
    const wall = performance.now() - t0;
    const busy = r.calls.reduce((a, c) => a + c.ms, 0);
    expect(busy / wall).toBeLessThan(0.3);
  });
});
