import { describe, expect, it } from 'vitest';
import { classify, DatabaseCircuit, DatabaseUnavailable } from './availability.js';

describe('database availability', () => {
  it('classifies driver errors: down, suspect (a wait ran out), slow, or an ordinary error', () => {
    expect(classify(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe('down');
    expect(classify(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe('down');
    expect(classify(new Error('Connection terminated unexpectedly'))).toBe('down');
    expect(classify(new Error('timeout exceeded when trying to connect'))).toBe('suspect');
    expect(classify(new Error('Query read timeout'))).toBe('suspect');
    expect(classify(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe('slow');
    expect(classify(Object.assign(new Error('duplicate key value'), { code: '23505' }))).toBeUndefined();
  });

  it('opens on a connection failure (one event), fails fast while open, closes when a probe succeeds', async () => {
    let reachable = false;
    const events: string[] = [];
    const circuit = new DatabaseCircuit(async () => {
      if (!reachable) throw new Error('connect ECONNREFUSED');
    }, 20);
    circuit.on({ down: () => void events.push('down'), up: () => void events.push('up') });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const translated = circuit.translate(refused);
    expect(translated).toBeInstanceOf(DatabaseUnavailable);
    expect((translated as DatabaseUnavailable).status).toBe(503);
    expect((translated as DatabaseUnavailable).retryAfterSeconds).toBe(1);
    circuit.translate(refused);
    expect(circuit.up).toBe(false);
    expect(() => circuit.check()).toThrow(DatabaseUnavailable);
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual(['down']);
    reachable = true;
    for (let i = 0; i < 50 && !circuit.up; i++) await new Promise((r) => setTimeout(r, 10));
    expect(circuit.up).toBe(true);
    expect(events).toEqual(['down', 'up']);
    expect(circuit.outages).toBe(1);
    circuit.close();
  });

  it('a timeout only asks for a probe: the circuit stays closed when the probe succeeds', async () => {
    let probes = 0;
    const circuit = new DatabaseCircuit(async () => {
      probes++;
    });
    expect(circuit.translate(new Error('timeout exceeded when trying to connect'))).toBeInstanceOf(DatabaseUnavailable);
    expect(circuit.up).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(probes).toBe(1);
    expect(circuit.outages).toBe(0);
    circuit.close();
  });
});
