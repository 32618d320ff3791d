import { DateTime } from 'luxon';
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { TICKET_ROW_COLUMNS, type TicketRecord } from '../metrics/ticket-rows.compiler.js';
import type { SeriesByMetric } from './csv.writer.js';

/** The most rows a worksheet holds, its header row included (Office Open XML's limit). */
export const XLSX_MAX_ROWS = 1_048_576;

const DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss';
const TIMESTAMP_FORMAT = 'yyyy-mm-dd hh:mm:ss.000';

/**
 * A workbook written as it is produced: one sheet per metric (`timestamp` as
 * a date cell, `value`, `count`), then a `tickets` sheet of the raw rows when
 * given. Text arrives escaped from the database; numbers and dates are cells
 * of their own type; an empty value is an empty cell.
 *
 * Spreadsheet dates have no zone: a bucket's cell holds its local time in the
 * request's zone (what its ISO timestamp reads), a ticket's its UTC time.
 */
export function xlsxExport(series: SeriesByMetric, tickets: AsyncIterable<readonly TicketRecord[]> | null): Readable {
  const out = new PassThrough();
  write(out, series, tickets).catch((error: unknown) => out.destroy(error as Error));
  return out;
}

async function write(
  out: PassThrough,
  series: SeriesByMetric,
  tickets: AsyncIterable<readonly TicketRecord[]> | null,
): Promise<void> {
  // Loaded on the first workbook, not at boot: exceljs and its zip libraries
  // cost about half a second of every start, and most instances never write one.
  const { default: ExcelJS } = await import('exceljs');
  // Shared strings would keep every string in memory until the end.
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  for (const [metric, points] of series) {
    const sheet = workbook.addWorksheet(metric);
    sheet.columns = [
      { header: 'timestamp', key: 'timestamp', width: 20, style: { numFmt: DATE_FORMAT } },
      { header: 'value', key: 'value', width: 14 },
      { header: 'count', key: 'count', width: 10 },
    ];
    for (const point of points) sheet.addRow({ ...point, timestamp: wallClock(point.timestamp) }).commit();
    sheet.commit();
  }
  if (tickets) {
    const sheet = workbook.addWorksheet('tickets');
    sheet.columns = TICKET_ROW_COLUMNS.map((key) => ({
      header: key,
      key,
      width: key.endsWith('_at') ? 24 : 14,
      style: key.endsWith('_at') ? { numFmt: TIMESTAMP_FORMAT } : {},
    }));
    for await (const batch of tickets) {
      for (const row of batch) sheet.addRow(row).commit();
      // exceljs never waits for the zip, nor the zip for the client: wait for both before the next batch.
      await drained(sheetInput(sheet), out);
      await drained(out, out);
      if (out.destroyed) return;
    }
    sheet.commit();
  }
  await workbook.commit();
}

/** The local date and time an ISO timestamp with offset reads, as a zone-less spreadsheet date. */
function wallClock(timestamp: string): Date {
  return DateTime.fromISO(timestamp, { setZone: true }).setZone('UTC', { keepLocalTime: true }).toJSDate();
}

/**
 * A writable stream of any vintage: Node's, or readable-stream 2's, which
 * exceljs pipes a sheet into and which shows its buffer only in its state.
 */
export interface Buffered extends EventEmitter {
  readonly writableNeedDrain?: boolean;
  readonly _writableState?: { readonly needDrain?: boolean };
}

/**
 * The stream a sheet's XML is written into on its way to the zip (exceljs
 * 4.4: the sheet's buffer pipes into a readable-stream 2 PassThrough of
 * archiver's). exceljs writes to it without ever looking at its buffer, so
 * rows would pile up there whenever compression lags. Neither library offers
 * a public way to see that buffer, so this and `needsDrain` reach in, and
 * nothing else does. Null if exceljs changes (then only the output is
 * watched); `xlsx.writer.spec.ts` fails then.
 */
export function sheetInput(sheet: object): Buffered | null {
  const input = (sheet as { stream?: { pipes?: unknown[] } }).stream?.pipes?.[0] as Buffered | undefined;
  return input instanceof EventEmitter && (input.writableNeedDrain !== undefined || input._writableState)
    ? input
    : null;
}

/** Whether `stream` refused a write and has not emitted 'drain' since. */
export function needsDrain(stream: Buffered): boolean {
  // `writableNeedDrain` is public from Node 15; readable-stream 2 predates it.
  return stream.writableNeedDrain ?? stream._writableState?.needDrain ?? false;
}

/** Resolves once `stream` has room again, or at once when it has room, or when `out` is gone. */
function drained(stream: Buffered | null, out: Writable): Promise<void> {
  if (!stream || !needsDrain(stream) || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      out.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    out.on('close', done);
  });
}
