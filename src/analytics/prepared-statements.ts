import { createHash } from 'node:crypto';

/**
 * Names for the analytics statements worth preparing (`CompiledQuery.reusable`).
 *
 * Planning a rollup report costs about ten times running it: `EXPLAIN
 * ANALYZE` of a one-year daily series over 1,000,000 tickets plans in
 * ~1 ms and runs in ~1.5 ms, and on the server log of a 30-day dashboard
 * the three reports' `bind` (where PostgreSQL plans an unnamed statement)
 * took 4.3 ms each against 0.4 ms to execute. A named statement is parsed
 * and planned once per connection; under `plan_cache_mode =
 * force_generic_plan` (set on the analytics pool, see database-options.ts)
 * its generic plan is then reused: 0.06 ms of planning. Reusable statements
 * are those whose text depends on the query's shape only and whose plan does
 * not hinge on the values (index range scans by organization and bucket).
 * The others run with `plan_cache_mode = auto`, planned for their values as
 * before (AnalyticsReader).
 *
 * Bounded: the first `max` distinct texts get a name, later ones run
 * unnamed. A prepared statement keeps its plan in every connection of the
 * pool that ran it (about 0.8 MB for the largest report), and node-postgres
 * prepares a name on a connection the first time it runs there and never
 * forgets it (it has no eviction), so a fixed set rather than an LRU: at
 * most `max` × the pool size plans, whatever shapes clients ask for.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>();

  constructor(readonly max: number) {}

  get enabled(): boolean {
    return this.max > 0;
  }

  /** The name of `text`'s prepared statement, or undefined when it runs unnamed. */
  nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.max) {
      name = `pulse_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
      this.names.set(text, name);
    }
    return name;
  }
}
