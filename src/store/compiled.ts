import { createQueryId, type Compilable, type CompiledQuery, type Kysely, type QueryResult } from 'kysely';

/**
 * A query built and compiled once, run with new values: the hot paths (a gateway's store
 * lookup, issuance's insert, a password sign-in's reads) skip Kysely's query builder, which
 * builds, freezes and compiles an operation tree on every call (a quarter of the CPU of a cold
 * gateway validation, bench/growth/profile-cold.mjs). The SQL text and its statement are the
 * ones the builder makes, so both dialects keep working.
 *
 * `build` makes the query with `p(i)` where the i-th value goes; `run` takes the values in
 * that order. Values written into the query as constants stay constants. Run it on the database
 * it was built from (its dialect made the SQL) or a transaction of it.
 */
export interface CompiledStatement<R> {
  run(db: Kysely<any>, values: readonly unknown[]): Promise<QueryResult<R>>;
}

const MARK = '\u0000gatehouse-param:';

export function compile<R>(build: (p: <T = any>(i: number) => T) => Compilable<R>): CompiledStatement<R> {
  let ready: { compiled: CompiledQuery<R>; slots: Array<number | { constant: unknown }>; arity: number } | undefined;
  // On first use, so a store made for one transaction compiles only what it runs.
  const prepare = (): NonNullable<typeof ready> => {
    const compiled = build(<T>(i: number) => `${MARK}${i}` as T).compile();
    // Where each value of `run` goes among the query's parameters, or the constant that stays.
    const slots = compiled.parameters.map((v) => (typeof v === 'string' && v.startsWith(MARK) ? Number(v.slice(MARK.length)) : { constant: v }));
    const arity = slots.reduce<number>((n, s) => (typeof s === 'number' ? Math.max(n, s + 1) : n), 0);
    // Every value must land among the parameters: one written into the SQL text would be ignored.
    for (let i = 0; i < arity; i++) if (!slots.includes(i)) throw new TypeError(`compiled query: value ${i} is not a parameter of ${compiled.sql}`);
    return { compiled, slots, arity };
  };
  return {
    run(target, values) {
      try {
        ready ??= prepare();
      } catch (err) {
        return Promise.reject(err);
      }
      const { compiled, slots, arity } = ready;
      if (values.length !== arity) return Promise.reject(new RangeError(`compiled query takes ${arity} values, got ${values.length}`));
      const parameters = slots.map((s) => (typeof s === 'number' ? values[s] : s.constant));
      // A query id per run, as the builder gives (a plugin may key its state by it).
      return target.executeQuery<R>({ ...compiled, parameters, queryId: createQueryId() });
    },
  };
}
