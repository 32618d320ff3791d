import type { ExportRequestDto } from './dto/export.request.dto.js';
import { exportFilename, exportMetadata, normalizeExportRequest } from './export-request.js';

const NOW = new Date('2025-06-15T10:00:30Z');
const dto = (overrides: Partial<ExportRequestDto> = {}): ExportRequestDto =>
  ({
    metric_types: ['ticket_count'],
    start_date: '2025-03-01',
    end_date: '2025-03-08',
    format: 'csv',
    ...overrides,
  }) as ExportRequestDto;

describe('normalizeExportRequest', () => {
  it('applies the defaults and reads excel as xlsx', () => {
    const request = normalizeExportRequest(dto({ format: 'excel' }), NOW);
    expect(request).toEqual({
      metricTypes: ['ticket_count'],
      start: new Date('2025-03-01T00:00:00Z'),
      end: new Date('2025-03-08T00:00:00Z'),
      timezone: 'UTC',
      granularity: 'daily',
      filters: {},
      includeRawData: false,
      format: 'xlsx',
    });
  });

  it('keeps each metric once, in the order asked; sorts and de-duplicates filter values', () => {
    const request = normalizeExportRequest(
      dto({
        metric_types: ['response_time', 'ticket_count', 'response_time'],
        filters: { status: ['pending', 'open', 'pending'], channel: [] },
      }),
      NOW,
    );
    expect(request.metricTypes).toEqual(['response_time', 'ticket_count']);
    expect(request.filters).toEqual({ status: ['open', 'pending'] });
  });

  it('refuses a missing range and an oversized series before any query', () => {
    expect(() => normalizeExportRequest(dto({ start_date: undefined, end_date: undefined }), NOW)).toThrow(
      'a range is required',
    );
    expect(() =>
      normalizeExportRequest(dto({ start_date: '2023-01-01', end_date: '2025-01-01', granularity: 'hourly' }), NOW),
    ).toThrow('buckets');
  });
});

describe('exportFilename', () => {
  it('writes the range ends in UTC as YYYYMMDDTHHMMSSZ, whatever the request zone', () => {
    const request = normalizeExportRequest(
      dto({ start_date: '2025-03-01T00:00:00.750', end_date: '2025-03-30T12:00:00', timezone: 'Europe/Berlin' }),
      NOW,
    );
    expect(exportFilename(42, request)).toBe('pulse_42_20250228T230000Z_20250330T100000Z.csv');
  });

  it('uses the period’s resolved range', () => {
    const request = normalizeExportRequest(dto({ start_date: undefined, end_date: undefined, period: '24h' }), NOW);
    expect(exportFilename(7, { ...request, format: 'json' })).toBe('pulse_7_20250614T100100Z_20250615T100100Z.json');
  });
});

describe('exportMetadata', () => {
  it('echoes the range in the request zone and the generation time in UTC', () => {
    const request = normalizeExportRequest(dto({ timezone: 'America/New_York', format: 'json' }), NOW);
    expect(exportMetadata(3, request, NOW)).toMatchObject({
      start_date: '2025-03-01T00:00:00-05:00',
      end_date: '2025-03-08T00:00:00-05:00',
      timezone: 'America/New_York',
      format: 'json',
      organization_id: 3,
      generated_at: '2025-06-15T10:00:30Z',
    });
  });
});
