import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

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
  let compiled: CompiledQuery<R> | undefined;
  // Where each value of `run` goes among the query's parameters, or the constant that stays.
  let slots: Array<number | { constant: unknown }> = [];
  let arity = 0;
  return {
    run(target, values) {
      if (compiled === undefined) {
        // On first use, so a store made for one transaction compiles only what it runs.
        compiled = build(<T>(i: number) => `${MARK}${i}` as T).compile();
        slots = compiled.parameters.map((v) => (typeof v === 'string' && v.startsWith(MARK) ? Number(v.slice(MARK.length)) : { constant: v }));
        arity = slots.reduce<number>((n, s) => (typeof s === 'number' ? Math.max(n, s + 1) : n), 0);
      }
      if (values.length !== arity) return Promise.reject(new RangeError(`compiled query takes ${arity} values, got ${values.length}`));
      const parameters = slots.map((s) => (typeof s === 'number' ? values[s] : s.constant));
      return target.executeQuery<R>({ ...compiled, parameters });
    },
  };
}
