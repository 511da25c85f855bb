import { describe, expect, it } from 'vitest';
import { BUCKETS, freshWindow, MemoryThrottler, toLimit, windowCheck, type ThrottleOutcome, type WindowState } from './throttle.js';

const copy = (s: WindowState): WindowState => ({ c: s.c, s: s.s, g: s.g, n: s.n.slice() });
const out = (): ThrottleOutcome => ({ remaining: -1, resetMs: 0 });
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000); // a window boundary

/** Admission times of `arrivals` (ms) through one fresh window. */
function admitted(limit: ReturnType<typeof toLimit>, arrivals: number[]): number[] {
  const s = freshWindow();
  const o = out();
  return arrivals.filter((t) => windowCheck(s, limit, t, o) === 0);
}

/** The most admissions found in any span of `windowMs` (admission i and i+n less than a window apart). */
function maxInAnyWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

let seed = 42;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

describe('windowCheck', () => {
  it('admits exactly `requests` at once, then gives a positive wait; Remaining counts down', () => {
    const limit = toLimit({ requests: 5, perSeconds: 60 });
    const s = freshWindow();
    const o = out();
    for (let i = 0; i < 5; i++) {
      expect(windowCheck(s, limit, T0 + i, o)).toBe(0);
      expect(o.remaining).toBe(4 - i);
    }
    expect(windowCheck(s, limit, T0 + 10, o)).toBeGreaterThan(0);
    expect(o.remaining).toBe(0);
  });

  it('the attack pattern that got 19 calls through in 10.4 s against 10 per 10 s: 10 now', () => {
    const limit = toLimit({ requests: 10, perSeconds: 10 });
    // ten calls at the end of one 10 s window, then one every 100 ms: the old weighted window
    // (previous count × remaining share + current count) admitted 19 of them within 9.4 s
    const arrivals = [...Array.from({ length: 10 }, (_, i) => T0 + 9_600 + i * 40), ...Array.from({ length: 150 }, (_, i) => T0 + 10_000 + i * 100)];
    const got = admitted(limit, arrivals);
    expect(maxInAnyWindow(got, 10_000)).toBe(10);
    // the next call after the burst only once the burst's bucket has left the window
    expect(got[10]! - T0).toBe(20_000);
  });

  it('never admits more than `requests` in any window, for random bursty traffic and tiers', () => {
    for (let trial = 0; trial < 300; trial++) {
      const limit = toLimit({ requests: 1 + Math.floor(rnd() * 30), perSeconds: 1 + Math.floor(rnd() * 60) });
      const arrivals: number[] = [];
      let t = T0 + Math.floor(rnd() * 1e6);
      for (let i = 0; i < 400; i++) {
        // bursts (0 ms apart) mixed with pauses up to a window
        t += rnd() < 0.6 ? 0 : Math.floor(rnd() * limit.windowMs * (rnd() < 0.1 ? 1 : 0.1));
        arrivals.push(t);
      }
      const got = admitted(limit, arrivals);
      expect(maxInAnyWindow(got, limit.windowMs), JSON.stringify(limit)).toBeLessThanOrEqual(limit.requests);
    }
  });

  it('the wait is exact: refused a millisecond before it, admitted at it', () => {
    for (let trial = 0; trial < 200; trial++) {
      const limit = toLimit({ requests: 1 + Math.floor(rnd() * 20), perSeconds: 1 + Math.floor(rnd() * 60) });
      const s = freshWindow();
      const o = out();
      let now = T0 + Math.floor(rnd() * 1e6);
      for (let step = 0; step < 200; step++) {
        now += Math.floor((rnd() * limit.windowMs) / limit.requests);
        const before = copy(s);
        const wait = windowCheck(s, limit, now, o);
        if (wait > 0) {
          const w = Math.ceil(wait);
          const ctx = JSON.stringify({ limit, now, w });
          if (w > 1) expect(windowCheck(copy(before), limit, now + w - 1, out()), ctx).toBeGreaterThan(0);
          expect(windowCheck(copy(before), limit, now + w, out()), ctx).toBe(0);
        }
      }
    }
  });

  it('keeps up the tier rate at a steady overload, less at most one bucket per window', () => {
    const limit = toLimit({ requests: 10, perSeconds: 10 });
    const got = admitted(limit, Array.from({ length: 2000 }, (_, i) => T0 + i * 50)); // 20/s for 100 s
    expect(got.length).toBeLessThanOrEqual(100);
    expect(got.length).toBeGreaterThanOrEqual(Math.floor((100 * BUCKETS) / (BUCKETS + 1)));
  });

  it('Reset is when the full quota is back: every counted request has left the window', () => {
    const limit = toLimit({ requests: 3, perSeconds: 10 }); // buckets of 500 ms
    const s = freshWindow();
    const o = out();
    expect(windowCheck(s, limit, T0 + 1_200, o)).toBe(0);
    // counted in the bucket [1000, 1500): it leaves the window when the bucket [11500, 12000) starts
    expect(o.resetMs).toBe(11_500 - 1_200);
    windowCheck(s, limit, T0 + 1_300, o);
    windowCheck(s, limit, T0 + 4_000, o);
    const wait = windowCheck(s, limit, T0 + 4_100, o);
    expect(o).toEqual({ remaining: 0, resetMs: 14_500 - 4_100 });
    // the two calls of the first bucket leave at 11.5 s: one slot is free then
    expect(wait).toBe(11_500 - 4_100);
  });

  it('a subscription moved to a tier with another window starts afresh', () => {
    const s = freshWindow();
    const o = out();
    const small = toLimit({ requests: 1, perSeconds: 60 });
    expect(windowCheck(s, small, T0, o)).toBe(0);
    expect(windowCheck(s, small, T0 + 1, o)).toBeGreaterThan(0);
    expect(windowCheck(s, toLimit({ requests: 1, perSeconds: 30 }), T0 + 2, o)).toBe(0);
  });
});

describe('MemoryThrottler', () => {
  it('keeps one state per key and sweeps idle ones', async () => {
    const t = new MemoryThrottler(1e9);
    const limit = toLimit({ requests: 1, perSeconds: 1 });
    const o = out();
    expect(t.check('a', limit, T0 + 10_000, o)).toBe(0);
    expect(t.check('a', limit, T0 + 10_001, o)).toBeGreaterThan(0);
    expect(t.check('b', limit, T0 + 10_001, o)).toBe(0);
    expect(t.size).toBe(2);
    t.sweep(T0 + 10_500);
    expect(t.size).toBe(2);
    t.sweep(T0 + 13_000);
    expect(t.size).toBe(0);
    await t.close();
  });
});
