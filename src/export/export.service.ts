import { Injectable } from '@nestjs/common';
import { finished, type Readable } from 'node:stream';
import { AnalyticsRepository } from '../analytics/analytics.repository.js';
import type { Principal } from '../auth/auth.types.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { summarizeSeries, type DataPoint } from '../metrics/series.js';
import type { TicketRowsQuery, TicketRowsShape } from '../metrics/ticket-rows.compiler.js';
import { seriesCsv, type SeriesByMetric } from './csv.writer.js';
import type { ExportRequestDto } from './dto/export.request.dto.js';
import { ExportRepository } from './export.repository.js';
import { ExportSlots, type ExportSlot } from './export-slots.js';
import {
  CONTENT_TYPES,
  exportFilename,
  exportMetadata,
  normalizeExportRequest,
  type ExportFormat,
  type ExportRequest,
} from './export-request.js';
import { jsonExport } from './json.writer.js';
import { endWhenStalled } from './stall-guard.js';
import type { TicketSnapshot } from './ticket-snapshot.js';
import { XLSX_MAX_ROWS, xlsxExport } from './xlsx.writer.js';

/** A file to send: its body streams, so nothing after this point can still become an error response. */
export interface ExportFile {
  readonly contentType: string;
  readonly filename: string;
  readonly body: Readable;
}

/** Rows fetched per round trip for the formats written in JavaScript. */
const BATCH_ROWS = 1000;
const SHAPES: Readonly<Record<Exclude<ExportFormat, 'csv'>, TicketRowsShape>> = {
  json: { escapeFormulas: false, timestampsAsText: false },
  xlsx: { escapeFormulas: true, timestampsAsText: false },
};

/**
 * `POST /analytics/export` (API.md §4.6): always computed fresh, never cached.
 * Everything that can fail with a client error or a database error at the
 * start (validation, the series, the row count) happens before the file is
 * handed over; the raw rows then stream from PostgreSQL at the client's pace.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly analytics: AnalyticsRepository,
    private readonly rows: ExportRepository,
    private readonly slots: ExportSlots,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * The file; whoever reads it too slowly to take anything for
   * EXPORT_IDLE_TIMEOUT_MS has it ended, which gives its connection back.
   */
  async export(caller: Principal, dto: ExportRequestDto): Promise<ExportFile> {
    const file = await this.file(caller, dto);
    return { ...file, body: endWhenStalled(file.body, this.config.exportIdleTimeoutMs) };
  }

  private async file(caller: Principal, dto: ExportRequestDto): Promise<ExportFile> {
    const now = this.clock.now();
    const request = normalizeExportRequest(dto, now);
    const organizationId = caller.organizationId;
    const file = { contentType: CONTENT_TYPES[request.format], filename: exportFilename(organizationId, request) };
    // Refused before any query when too many raw exports hold a connection;
    // the place then goes back with the connection (TicketSnapshot).
    const slot = request.includeRawData ? this.slots.acquire(organizationId) : null;
    try {
      // A raw CSV holds the tickets instead of the series.
      if (request.format === 'csv' && slot) {
        const snapshot = await this.openTickets(organizationId, request, slot);
        return { ...file, body: snapshot.copyCsv() };
      }
      const series = await this.series(organizationId, request);
      if (request.format === 'csv') return { ...file, body: seriesCsv(series) };

      const snapshot = slot ? await this.openTickets(organizationId, request, slot) : null;
      const tickets = snapshot?.batches(SHAPES[request.format], BATCH_ROWS) ?? null;
      const body =
        request.format === 'json'
          ? jsonExport(exportMetadata(organizationId, request, now), series, tickets)
          : xlsxExport(series, tickets);
      // However the body ends (read, failed, dropped unread), the connection goes back.
      if (snapshot) finished(body, () => snapshot.abort());
      return { ...file, body };
    } catch (error) {
      slot?.release();
      throw error;
    }
  }

  /** Each metric's data points, exactly as the time-series endpoint computes them. */
  private async series(organizationId: number, request: ExportRequest): Promise<SeriesByMetric> {
    const { start, end, timezone, granularity, filters } = request;
    const entries = await Promise.all(
      request.metricTypes.map(async (metric): Promise<[string, DataPoint[]]> => {
        const rows = await this.analytics.series({
          organizationId,
          metric,
          start,
          end,
          timezone,
          granularity,
          filters,
        });
        return [metric, summarizeSeries(metric, rows, timezone).data_points];
      }),
    );
    return new Map(entries);
  }

  /** A snapshot of the raw rows, refused with a 400 when it holds more than a file may. */
  private async openTickets(organizationId: number, request: ExportRequest, slot: ExportSlot): Promise<TicketSnapshot> {
    const query: TicketRowsQuery = { organizationId, start: request.start, end: request.end, filters: request.filters };
    const limit = this.config.exportMaxRows;
    const sheetLimit = request.format === 'xlsx' ? XLSX_MAX_ROWS - 1 : Infinity;
    const cap = Math.min(limit, sheetLimit);
    const snapshot = await this.rows.openTickets(query, cap + 1, () => slot.release());
    if (snapshot.count <= cap) return snapshot;
    await snapshot.end();
    throw new DomainError(
      'VALIDATION_FAILED',
      cap < limit
        ? `include_raw_data would export more than ${cap} tickets, the most an xlsx sheet holds; narrow the range or the filters, or use csv or json`
        : `include_raw_data would export more than ${limit} tickets (EXPORT_MAX_ROWS); narrow the range or the filters`,
    );
  }
}
