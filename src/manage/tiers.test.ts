import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.js';
import { cliActor } from './actor.js';
import type { ManageContext } from './context.js';
import { Tiers } from './tiers.js';

const tiersOf = (tiers: Record<string, { requests: number; perSeconds: number } | 'unlimited'>) =>
  new Tiers({ config: { throttling: { tiers } } } as unknown as ManageContext);
const actor = cliActor('test');

describe('tiers', () => {
  it('says each limit in the largest whole unit of its window, in the configuration\'s order', async () => {
    const t = tiersOf({
      Gold: { requests: 5000, perSeconds: 60 },
      Trial: { requests: 1, perSeconds: 86400 },
      Odd: { requests: 10, perSeconds: 90 },
      Burst: { requests: 20, perSeconds: 1 },
      Hours: { requests: 300, perSeconds: 7200 },
      Unlimited: 'unlimited',
    });
    const { items, next } = await t.list(actor);
    expect(items.map((i) => [i.name, i.description])).toEqual([
      ['Gold', '5000 requests per minute'],
      ['Trial', '1 request per day'],
      ['Odd', '10 requests per 90 seconds'],
      ['Burst', '20 requests per second'],
      ['Hours', '300 requests per 2 hours'],
      ['Unlimited', 'no limit'],
    ]);
    expect(items[0]).toEqual({ name: 'Gold', requests: 5000, perSeconds: 60, description: '5000 requests per minute' });
    expect(items[5]).toEqual({ name: 'Unlimited', requests: null, perSeconds: null, description: 'no limit' });
    expect(next).toBeNull();
  });

  it('pages like every list; a cursor naming no configured tier is refused', async () => {
    const t = tiersOf({ A: { requests: 1, perSeconds: 1 }, B: { requests: 2, perSeconds: 1 }, C: 'unlimited' });
    const first = await t.list(actor, { limit: 2 });
    expect(first.items.map((i) => i.name)).toEqual(['A', 'B']);
    expect(first.next).not.toBeNull();
    const second = await t.list(actor, { limit: 2, cursor: first.next! });
    expect(second).toEqual({ items: [{ name: 'C', requests: null, perSeconds: null, description: 'no limit' }], next: null });
    const gone = Buffer.from(JSON.stringify('Z')).toString('base64url');
    await expect(t.list(actor, { cursor: gone })).rejects.toThrow(new InvalidInput('cursor', 'the cursor is not one this list returned; start again without it'));
    await expect(t.list(actor, { limit: 0 })).rejects.toThrow(/limit must be a whole number from 1 to 200/);
  });
});
