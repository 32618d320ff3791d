import type { Filters } from './dimensions.js';
import { METRICS, type MetricTicket, type MetricType } from './metric-registry.js';
import { metricWhere } from './query-compiler.js';
import { SqlParams, type CompiledQuery } from './sql-params.js';

/** The columns of a raw ticket row, in file order. */
export const TICKET_ROW_COLUMNS = [
  'id',
  'external_id',
  'status',
  'priority',
  'channel',
  'category',
  'assignee_id',
  'sentiment_score',
  'created_at',
  'first_response_at',
  'resolved_at',
  'response_time_hours',
  'resolution_time_hours',
] as const satisfies readonly (keyof TicketRecord)[];
export type TicketRowColumn = (typeof TICKET_ROW_COLUMNS)[number];

/** A raw ticket row as the driver returns it when timestamps are not text. */
export interface TicketRecord extends MetricTicket {
  readonly id: string;
  readonly external_id: string | null;
  readonly response_time_hours: number | null;
  readonly resolution_time_hours: number | null;
}

/** Which tickets: those created in `[start, end)` that match the filters. */
export interface TicketRowsQuery {
  readonly organizationId: number;
  readonly start: Date;
  readonly end: Date;
  readonly filters: Filters;
}

/** How the values come out of the database. */
export interface TicketRowsShape {
  /** Text that a spreadsheet would run as a formula gets a leading `'` (csv, xlsx). */
  readonly escapeFormulas: boolean;
  /** Timestamps as ISO 8601 UTC text (`...T12:00:00.000Z`) rather than timestamptz. */
  readonly timestampsAsText: boolean;
}

const TEXT_COLUMNS = new Set<TicketRowColumn>([
  'external_id',
  'status',
  'priority',
  'channel',
  'category',
  'assignee_id',
]);
const TIMESTAMP_COLUMNS = new Set<TicketRowColumn>(['created_at', 'first_response_at', 'resolved_at']);
/** The hours columns are the registry's per-ticket values; NULL when the ticket has no such timestamp. */
const HOURS_OF: Partial<Record<TicketRowColumn, MetricType>> = {
  response_time_hours: 'response_time',
  resolution_time_hours: 'resolution_time',
};

/** First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"). */
const FORMULA_STARTS = `('=', '+', '-', '@', E'\\t', E'\\r')`;

function columnSql(column: TicketRowColumn, shape: TicketRowsShape): string {
  const ref = `t.${column}`;
  const metric = HOURS_OF[column];
  if (metric) return METRICS[metric].valueSql!;
  if (TEXT_COLUMNS.has(column) && shape.escapeFormulas) {
    return `CASE WHEN left(${ref}, 1) IN ${FORMULA_STARTS} THEN '''' || ${ref} ELSE ${ref} END`;
  }
  if (TIMESTAMP_COLUMNS.has(column) && shape.timestampsAsText) {
    return `to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }
  return ref;
}

/**
 * The raw tickets of an export: those `ticket_count` counts over the range
 * (the same WHERE as its series), oldest first, ties by id, so the order is
 * total and served by the (organization_id, created_at, id) index.
 */
export function compileTicketRows(
  q: TicketRowsQuery,
  shape: TicketRowsShape,
  params: SqlParams = new SqlParams(),
): CompiledQuery {
  const select = TICKET_ROW_COLUMNS.map((column) => `${columnSql(column, shape)} AS ${column}`);
  const text = `
    SELECT ${select.join(',\n           ')}
    FROM tickets t
    WHERE ${metricWhere(METRICS.ticket_count, q, params)}
    ORDER BY t.created_at, t.id`;
  return { text, values: params.values };
}

/** How many rows `compileTicketRows` would return, counted no further than `cap`. */
export function compileTicketRowCount(q: TicketRowsQuery, cap: number): CompiledQuery {
  const params = new SqlParams();
  const where = metricWhere(METRICS.ticket_count, q, params);
  const text = `
    SELECT count(*)::int AS count
    FROM (SELECT 1 FROM tickets t WHERE ${where} LIMIT ${params.add(cap)}) capped`;
  return { text, values: params.values };
}
