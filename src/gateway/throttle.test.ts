import { describe, expect, it } from 'vitest';
import { MemoryThrottler, slidingWindowCheck, type WindowState } from './throttle.js';

const fresh = (): WindowState => ({ w: 0, c: 0, p: 0 });

describe('slidingWindowCheck', () => {
  it('admits exactly `requests` in a fresh window, then gives a positive wait', () => {
    const s = fresh();
    const limit = { requests: 5, windowMs: 60_000 };
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000); // window start
    for (let i = 0; i < 5; i++) expect(slidingWindowCheck(s, limit, t0 + i)).toBe(0);
    expect(slidingWindowCheck(s, limit, t0 + 10)).toBeGreaterThan(0);
  });

  it('the returned wait is exact: rejected just before it, admitted at it', () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const limit = { requests: 1 + Math.floor(rnd() * 20), windowMs: 1000 * (1 + Math.floor(rnd() * 60)) };
      const s = fresh();
      let now = 1_700_000_000_000 + Math.floor(rnd() * 1e6);
      for (let step = 0; step < 200; step++) {
        now += Math.floor(rnd() * limit.windowMs / limit.requests);
        const before = { ...s };
        const wait = slidingWindowCheck(s, limit, now);
        if (wait > 0) {
          const w = Math.ceil(wait);
          // a copy of the state, probed at now + w - 2 (still refused) and now + w (admitted)
          if (w > 2) expect(slidingWindowCheck({ ...before }, limit, now + w - 2), JSON.stringify({ limit, before, now, w })).toBeGreaterThan(0);
          expect(slidingWindowCheck({ ...before }, limit, now + w), JSON.stringify({ limit, before, now, w })).toBe(0);
        }
      }
    }
  });

  it('never admits more than `requests` within any window length of time at a steady overload', () => {
    const limit = { requests: 10, windowMs: 10_000 };
    const s = fresh();
    const admitted: number[] = [];
    for (let t = 0; t < 100_000; t += 50) if (slidingWindowCheck(s, limit, 1_700_000_000_000 + t) === 0) admitted.push(t);
    for (let i = 0; i + 10 < admitted.length; i++) {
      // the 11th admission after admission i is at least a window later
      expect(admitted[i + 10]! - admitted[i]!).toBeGreaterThanOrEqual(limit.windowMs);
    }
    // and the long-run rate is close to the limit
    expect(admitted.length).toBeGreaterThan(80);
  });
});

describe('MemoryThrottler', () => {
  it('keeps one state per key and sweeps idle ones', async () => {
    const t = new MemoryThrottler(1e9);
    const limit = { requests: 1, windowMs: 1000 };
    expect(t.check('a', limit, 10_000)).toBe(0);
    expect(t.check('a', limit, 10_001)).toBeGreaterThan(0);
    expect(t.check('b', limit, 10_001)).toBe(0);
    expect(t.size).toBe(2);
    t.sweep(10_500);
    expect(t.size).toBe(2);
    t.sweep(13_000);
    expect(t.size).toBe(0);
    await t.close();
  });
});
