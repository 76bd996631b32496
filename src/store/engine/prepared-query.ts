/**
 * Queries built once with Kysely and bound many times: the hot write path pays neither for the query
 * builder nor for the SQL compiler on every call, and (through the statement cache of the SQLite adapter)
 * SQLite prepares each statement once. The SQL still comes from one typed Kysely definition per query.
 */
import type { Compilable, CompiledQuery } from 'kysely';

/** Stands for a named parameter while the query is compiled; replaced by the bound value afterwards. */
class Placeholder {
  constructor(readonly name: string) {}
}

type Slot = { kind: 'named'; name: string } | { kind: 'constant'; value: unknown };

export interface PreparedQuery<P, R> {
  /** The compiled query with `params` in place of the placeholders. */
  bind(params: P): CompiledQuery<R>;
}

/**
 * Compiles `build` once, with a stand-in for every property read from its parameter object. Values
 * written literally in the query (not read from `params`) stay as compiled. `build` must use its
 * parameters only as values (never branch on them), which the types cannot check.
 */
export function prepareQuery<P extends object, R>(build: (params: P) => Compilable<R>): PreparedQuery<P, R> {
  const standIns = new Proxy(
    {},
    { get: (_target, name) => (typeof name === 'string' ? new Placeholder(name) : undefined) },
  ) as P;
  const compiled = build(standIns).compile();
  const slots: Slot[] = compiled.parameters.map((value) =>
    value instanceof Placeholder ? { kind: 'named', name: value.name } : { kind: 'constant', value },
  );
  return {
    bind(params: P): CompiledQuery<R> {
      const values = params as Record<string, unknown>;
      const parameters = slots.map((slot) => {
        if (slot.kind === 'constant') {
          return slot.value;
        }
        const value = values[slot.name];
        if (value === undefined) {
          throw new TypeError(`query parameter ${slot.name} is missing`);
        }
        return value;
      });
      return { query: compiled.query, queryId: compiled.queryId, sql: compiled.sql, parameters };
    },
  };
}
