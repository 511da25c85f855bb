import { describe, expect, it } from 'vitest';
import { DeadlineList, type Deadlined } from './deadlines.js';

const item = (name: string): Deadlined & { name: string } => ({ name, dlPrev: null, dlNext: null, dlAt: 0, dlList: null });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeadlineList', () => {
  it('expires items in order, each at its own deadline to the millisecond; removed ones never', async () => {
    const expired: [string, number][] = [];
    const t0 = performance.now();
    const list = new DeadlineList(100, (i) => expired.push([(i as unknown as { name: string }).name, performance.now() - t0]));
    const a = item('a');
    const b = item('b');
    const c = item('c');
    list.add(a, Date.now());
    await sleep(30);
    const addedB = performance.now() - t0;
    list.add(b, Date.now());
    list.add(c, Date.now());
    list.remove(a); // the head goes: the timer re-arms itself for b when it fires
    await sleep(200);
    expect(expired.map(([n]) => n)).toEqual(['b', 'c']);
    // Deadlines are kept in Date.now()'s whole milliseconds: up to 1 ms early on performance.now()'s clock.
    for (const [, at] of expired) {
      expect(at - addedB).toBeGreaterThanOrEqual(99);
      expect(at - addedB).toBeLessThan(100 + 100);
    }
    expect(a.dlList).toBeNull();
    list.close();
  });

  it('an item moved to another list leaves the first', async () => {
    const seen: string[] = [];
    const short = new DeadlineList(20, () => seen.push('short'));
    const long = new DeadlineList(60, () => seen.push('long'));
    const x = item('x');
    short.add(x, Date.now());
    long.add(x, Date.now());
    await sleep(100);
    expect(seen).toEqual(['long']);
    short.close();
    long.close();
  });
});
