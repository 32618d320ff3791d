/** Collects bound parameters while SQL text is assembled; user values never enter the text. */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Binds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export interface CompiledQuery {
  readonly text: string;
  readonly values: unknown[];
  /**
   * The text depends on the query's shape only (metric, grain, filtered and
   * grouped dimensions), never on its values, and its plan does not hinge on
   * them: worth a prepared statement whose generic plan is reused
   * (src/analytics/prepared-statements.ts).
   */
  readonly reusable?: boolean;
}
