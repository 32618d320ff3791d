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
}
