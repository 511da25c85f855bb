import { describe, expect, test } from 'vitest';
import { FailureBudget } from './budget.js';

describe('FailureBudget', () => {
  let now = 1_000_000;
  const clock = () => now;

  test('at most N failures in any 60 s; admitted again when the oldest leaves the window', () => {
    const budget = new FailureBudget(3, clock);
    for (let i = 0; i < 3; i++) {
      expect(budget.begin('k')).toBe(0);
      budget.end('k', true);
      now += 10_000; // failures at t, t+10 s, t+20 s
    }
    // t+30 s: the first failure leaves the window at t+60 s.
    expect(budget.begin('k')).toBe(30);
    expect(budget.begin('other')).toBe(0); // per key
    now += 29_000;
    expect(budget.begin('k')).toBe(1);
    now += 1_000;
    expect(budget.begin('k')).toBe(0);
  });

  test('successes do not count; attempts still running do', () => {
    const budget = new FailureBudget(2, clock);
    for (let i = 0; i < 10; i++) {
      expect(budget.begin('ok')).toBe(0);
      budget.end('ok', false);
    }
    expect(budget.begin('burst')).toBe(0);
    expect(budget.begin('burst')).toBe(0);
    expect(budget.begin('burst')).toBe(1); // two running: a third would overdraw the budget
    budget.end('burst', false);
    expect(budget.begin('burst')).toBe(0);
  });

  test('refuses a nonsensical limit', () => {
    expect(() => new FailureBudget(0)).toThrow(TypeError);
  });
});
