import { Readable } from 'node:stream';
import type { TicketRecord } from '../metrics/ticket-rows.compiler.js';
import type { SeriesByMetric } from './csv.writer.js';

/**
 * `{"metadata": ..., "series": {...}, "tickets": [...]}` written piecewise:
 * the tickets one batch at a time, read only as the client takes them.
 */
export function jsonExport(
  metadata: object,
  series: SeriesByMetric,
  tickets: AsyncIterable<readonly TicketRecord[]> | null,
): Readable {
  return Readable.from(pieces(metadata, series, tickets), { objectMode: false });
}

async function* pieces(
  metadata: object,
  series: SeriesByMetric,
  tickets: AsyncIterable<readonly TicketRecord[]> | null,
): AsyncGenerator<string> {
  yield `{"metadata":${JSON.stringify(metadata)},"series":${JSON.stringify(Object.fromEntries(series))}`;
  if (tickets) {
    yield ',"tickets":[';
    let separator = '';
    for await (const batch of tickets) {
      yield separator + batch.map((row) => JSON.stringify(row)).join(',');
      separator = ',';
    }
    yield ']';
  }
  yield '}';
}
