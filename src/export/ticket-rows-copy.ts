import pg from 'pg';
import { compileTicketRows, type TicketRowsQuery, type TicketRowsShape } from '../metrics/ticket-rows.compiler.js';
import { SqlParams } from '../metrics/sql-params.js';

const CSV_SHAPE: TicketRowsShape = { escapeFormulas: true, timestampsAsText: true };

/**
 * The raw rows as `COPY (...) TO STDOUT` streams them: CSV with a header line,
 * formatted and escaped by PostgreSQL. The statement is self-contained (see
 * `LiteralParams`), so it runs as it is wherever it is sent.
 */
export function compileTicketRowsCopy(q: TicketRowsQuery): string {
  const { text } = compileTicketRows(q, CSV_SHAPE, new LiteralParams());
  return `COPY (${text}) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

/**
 * Parameters for a statement that cannot take bind parameters (COPY): each
 * value is written into the text as a typed literal, quoted by the pg
 * driver's own `escapeLiteral`. Nothing else may carry them: a setting bound
 * beforehand (`set_config`) exists only in this session, and a distributed
 * database (Citus) runs the query on other nodes, where it does not. The
 * values are few (the organization, the range, the filters) and a literal
 * compared with an indexed column still uses the index.
 */
export class LiteralParams extends SqlParams {
  override add(value: unknown): string {
    super.add(value);
    return literal(value);
  }
}

function literal(value: unknown): string {
  if (value instanceof Date) return `${pg.escapeLiteral(value.toISOString())}::timestamptz`;
  if (typeof value === 'string') return `${pg.escapeLiteral(value)}::text`;
  if (typeof value === 'number') {
    return `${pg.escapeLiteral(String(value))}::${Number.isSafeInteger(value) ? 'bigint' : 'float8'}`;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return `ARRAY[${value.map((v) => pg.escapeLiteral(v)).join(', ')}]::text[]`;
  }
  throw new TypeError(`no literal for parameter ${String(value)}`);
}
