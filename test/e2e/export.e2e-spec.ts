import { getDataSourceToken } from '@nestjs/typeorm';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { Api, qs } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { CITUS } from '../support/citus.js';
import { ANALYTICS_CONNECTION } from '../../src/database/database-options.js';
import { poolOf } from '../../src/database/pg-pool.js';

/**
 * POST /analytics/export (API.md §4.6). Expected series come from the
 * time-series endpoint (use_cache=false); expected raw rows from the tickets
 * POST /tickets returned, with hours computed here.
 */

const EXPORT = '/api/v1/analytics/export';
const HOUR = 3_600_000;
const RAW_COLUMNS = [
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
] as const;
const TEXT_COLUMNS = ['external_id', 'status', 'priority', 'channel', 'category', 'assignee_id'] as const;
const TIMESTAMP_COLUMNS = ['created_at', 'first_response_at', 'resolved_at'] as const;
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** March 1–8, 2025 (UTC); the fixture has tickets on both sides of each end. */
const RANGE = { start_date: '2025-03-01T00:00:00Z', end_date: '2025-03-08T00:00:00Z' };
const RANGE_START = Date.parse(RANGE.start_date);
const RANGE_END = Date.parse(RANGE.end_date);

const FIXTURE: Record<string, unknown>[] = [
  {
    external_id: 'plain-1',
    created_at: '2025-03-01T09:15:00.250Z',
    priority: 'high',
    category: 'billing',
    assignee_id: 'agent-1',
    sentiment_score: 0.8,
    first_response_at: '2025-03-01T10:00:00.000Z',
  },
  {
    external_id: '=HYPERLINK("http://evil.example","x")',
    created_at: '2025-03-02T12:00:00.000Z',
    assignee_id: '+agent',
    sentiment_score: -0.5,
    status: 'resolved',
    first_response_at: '2025-03-02T12:20:00.000Z',
    resolved_at: '2025-03-03T18:00:00.123Z',
  },
  { external_id: '-2+3', created_at: '2025-03-03T08:00:00.000Z', assignee_id: '@agent', channel: '-dash' },
  { external_id: '\tTabbed', created_at: '2025-03-03T08:00:00.000Z', assignee_id: '\rreturn', sentiment_score: -1 },
  { external_id: 'a,"quoted"\nline', created_at: '2025-03-04T00:00:00.000Z', status: 'pending', channel: 'chat' },
  { external_id: null, assignee_id: null, sentiment_score: null, created_at: '2025-03-05T23:30:00.000Z' },
  {
    external_id: 'closed-1',
    created_at: '2025-03-07T23:59:59.999Z',
    status: 'closed',
    assignee_id: 'agent-1',
    priority: 'urgent',
    first_response_at: '2025-03-08T00:30:00.000Z',
    resolved_at: '2025-03-08T01:00:00.000Z',
  },
  // Outside the range: not raw rows, though the first answers within it (response_time counts it).
  { external_id: 'before', created_at: '2025-02-20T10:00:00.000Z', first_response_at: '2025-03-03T10:00:00.000Z' },
  { external_id: 'last-ms-before', created_at: '2025-02-28T23:59:59.999Z' },
  { external_id: 'at-end', created_at: '2025-03-08T00:00:00.000Z' },
];

type Ticket = Record<(typeof RAW_COLUMNS)[number] | 'updated_at', any>;

const hours = (from: string, to: string | null) => (to === null ? null : (Date.parse(to) - Date.parse(from)) / HOUR);
const createdInRange = (t: Ticket) => Date.parse(t.created_at) >= RANGE_START && Date.parse(t.created_at) < RANGE_END;
/** The raw rows the export must hold, in its order: created in range, by created_at then id. */
const expectedRows = (tickets: Ticket[], keep: (t: Ticket) => boolean = () => true) =>
  tickets
    .filter((t) => createdInRange(t) && keep(t))
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || (a.id < b.id ? -1 : 1));
const escaped = (text: string | null) => (text !== null && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

/** An HTTP answer with its body as bytes, for files that are not JSON. */
async function download(api: Api, body: unknown, init: RequestInit = {}) {
  const response = await fetch(`${api.baseUrl}${EXPORT}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  });
  const buffer = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, buffer, text: buffer.toString('utf8') };
}

const csvRecords = (text: string): Record<string, string>[] => parse(text, { columns: true });
const numberOrNull = (field: string) => (field === '' ? null : Number(field));

/** Compares a raw row (any format) with the ticket POST /tickets returned; hours within rounding. */
function expectRawRow(
  actual: Record<string, unknown>,
  ticket: Ticket,
  read: (column: string, value: unknown) => unknown,
) {
  for (const column of ['id', ...TEXT_COLUMNS, 'sentiment_score', ...TIMESTAMP_COLUMNS] as const) {
    expect(read(column, actual[column]), `${ticket.external_id} ${column}`).toEqual(ticket[column]);
  }
  for (const [column, to] of [
    ['response_time_hours', ticket.first_response_at],
    ['resolution_time_hours', ticket.resolved_at],
  ] as const) {
    const value = read(column, actual[column]) as number | null;
    const expected = hours(ticket.created_at, to);
    if (expected === null) expect(value, column).toBeNull();
    else expect(value, column).toBeCloseTo(expected, 9);
  }
}

describe('POST /analytics/export', () => {
  let server: TestApp;
  let api: Api;
  let tickets: Ticket[];
  let otherTickets: Ticket[];

  const seed = async (client: Api) => {
    const created: Ticket[] = [];
    for (const fields of FIXTURE) {
      const response = await client.post('/api/v1/tickets', buildTicket(fields));
      expect(response.status, response.text).toBe(201);
      created.push(response.body);
    }
    return created;
  };

  beforeAll(async () => {
    server = await startApp();
    api = new Api(server.url, tokenFor(newOrganizationId(), 'agent'));
    tickets = await seed(api);
    otherTickets = await seed(new Api(server.url, tokenFor(newOrganizationId(), 'agent')));
  });
  afterAll(() => server.close());

  const timeSeries = async (metric: string, params: Record<string, string | string[]>) => {
    const response = await api.get(`/api/v1/analytics/time-series/${metric}${qs({ ...params, use_cache: 'false' })}`);
    expect(response.status, response.text).toBe(200);
    return response.body;
  };

  describe('csv', () => {
    it('of the series: one row per bucket per metric, equal to the time-series data points', async () => {
      const query = { ...RANGE, granularity: 'daily', timezone: 'Europe/Berlin', channel: ['email'] };
      const file = await download(api, {
        metric_types: ['ticket_count', 'response_time'],
        start_date: query.start_date,
        end_date: query.end_date,
        granularity: query.granularity,
        timezone: query.timezone,
        filters: { channel: ['email'] },
        format: 'csv',
      });
      expect(file.status, file.text).toBe(200);
      expect(file.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(file.headers.get('x-cache')).toBeNull();
      expect(file.text.split('\n')[0]).toBe('metric_type,timestamp,value,count');
      const records = csvRecords(file.text);
      for (const metric of ['ticket_count', 'response_time']) {
        const { data_points } = await timeSeries(metric, query);
        const rows = records
          .filter((r) => r.metric_type === metric)
          .map((r) => ({ timestamp: r.timestamp, value: numberOrNull(r.value), count: Number(r.count) }));
        expect(rows).toEqual(data_points);
      }
      expect(records.map((r) => r.metric_type)).toEqual([
        ...Array(8).fill('ticket_count'),
        ...Array(8).fill('response_time'),
      ]);
    });

    it('with include_raw_data: the tickets created in range, every field as POST /tickets returned it', async () => {
      const file = await download(api, {
        metric_types: ['ticket_count'],
        ...RANGE,
        format: 'csv',
        include_raw_data: true,
      });
      expect(file.status, file.text).toBe(200);
      expect(file.text.split('\n')[0]).toBe(RAW_COLUMNS.join(','));
      const records = csvRecords(file.text);
      const expected = expectedRows(tickets);
      expect(records.map((r) => r.id)).toEqual(expected.map((t) => t.id));
      records.forEach((record, i) =>
        expectRawRow(record, expected[i], (column, value) => {
          const field = value as string;
          if ((TEXT_COLUMNS as readonly string[]).includes(column)) {
            return field === '' ? null : field.replace(/^'(?=[=+\-@\t\r])/, '');
          }
          if ((TIMESTAMP_COLUMNS as readonly string[]).includes(column) || column === 'id') {
            return field === '' ? null : field;
          }
          return numberOrNull(field);
        }),
      );
    });

    it('escapes text that a spreadsheet would run, and leaves numbers alone', async () => {
      const file = await download(api, {
        metric_types: ['ticket_count'],
        ...RANGE,
        format: 'csv',
        include_raw_data: true,
      });
      const records = csvRecords(file.text);
      const byId = new Map(records.map((r) => [r.id, r]));
      for (const ticket of expectedRows(tickets)) {
        const record = byId.get(ticket.id)!;
        for (const column of TEXT_COLUMNS) expect(record[column]).toBe(escaped(ticket[column]) ?? '');
      }
      const formula = records.find((r) => r.external_id.startsWith("'=HYPERLINK"))!;
      expect(formula.assignee_id).toBe("'+agent");
      expect(formula.sentiment_score).toBe('-0.5');
      expect(records.find((r) => r.external_id === "'-2+3")).toMatchObject({
        assignee_id: "'@agent",
        channel: "'-dash",
      });
      expect(records.find((r) => r.external_id === "'\tTabbed")).toMatchObject({
        assignee_id: "'\rreturn",
        sentiment_score: '-1',
      });
      // No field of the file starts a formula.
      for (const record of records) {
        for (const [column, value] of Object.entries(record)) {
          if (!/_hours$|sentiment_score/.test(column)) expect(value).not.toMatch(/^[=+\-@\t\r]/);
        }
      }
    });

    it('writes empty fields for empty values', async () => {
      const file = await download(api, {
        metric_types: ['ticket_count'],
        ...RANGE,
        format: 'csv',
        include_raw_data: true,
      });
      const bare = tickets.find((t) => t.external_id === null && createdInRange(t))!;
      const line = file.text.split('\n').find((l) => l.startsWith(bare.id))!;
      expect(line).toBe(`${bare.id},,open,medium,email,general,,,${bare.created_at},,,,`);
    });
  });

  describe('xlsx', () => {
    it('has one sheet per metric and a tickets sheet, with date cells, numbers and escaped text', async () => {
      const zone = 'Europe/Berlin';
      const file = await download(api, {
        metric_types: ['ticket_count', 'resolution_time'],
        ...RANGE,
        timezone: zone,
        format: 'xlsx',
        include_raw_data: true,
      });
      expect(file.status, file.text).toBe(200);
      expect(file.headers.get('content-type')).toBe(XLSX_TYPE);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(file.buffer as unknown as ArrayBuffer);
      expect(workbook.worksheets.map((s) => s.name)).toEqual(['ticket_count', 'resolution_time', 'tickets']);

      for (const metric of ['ticket_count', 'resolution_time']) {
        const sheet = workbook.getWorksheet(metric)!;
        expect(sheet.getRow(1).values).toEqual([undefined, 'timestamp', 'value', 'count']);
        const { data_points } = await timeSeries(metric, { ...RANGE, timezone: zone });
        const rows = sheet.getRows(2, sheet.rowCount - 1)!.map((row) => {
          const timestamp = row.getCell(1).value;
          expect(timestamp).toBeInstanceOf(Date);
          return { timestamp, value: row.getCell(2).value, count: row.getCell(3).value };
        });
        // A spreadsheet date has no zone: it holds the local time the ISO timestamp reads.
        expect(rows).toEqual(
          data_points.map((p: { timestamp: string; value: number | null; count: number }) => ({
            timestamp: new Date(`${p.timestamp.slice(0, 19)}Z`),
            value: p.value,
            count: p.count,
          })),
        );
      }

      const sheet = workbook.getWorksheet('tickets')!;
      expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual([...RAW_COLUMNS]);
      const expected = expectedRows(tickets);
      expect(sheet.rowCount).toBe(expected.length + 1);
      expected.forEach((ticket, i) => {
        const row = sheet.getRow(i + 2);
        const cells = Object.fromEntries(RAW_COLUMNS.map((c, j) => [c, row.getCell(j + 1).value]));
        // XML reads a bare carriage return as a line feed; the escape is there all the same.
        const xml = (value: unknown) => (typeof value === 'string' ? value.replaceAll('\r', '\n') : value);
        for (const column of TEXT_COLUMNS) expect(cells[column], column).toBe(xml(escaped(ticket[column])));
        expectRawRow({ ...cells, assignee_id: ticket.assignee_id }, ticket, (column, value) => {
          if ((TEXT_COLUMNS as readonly string[]).includes(column)) {
            return typeof value === 'string' ? value.replace(/^'(?=[=+\-@\t\r])/, '') : value;
          }
          if ((TIMESTAMP_COLUMNS as readonly string[]).includes(column)) {
            if (value !== null) expect(value).toBeInstanceOf(Date);
            return value === null ? null : (value as Date).toISOString();
          }
          return value;
        });
      });
      const formula = expected.findIndex((t) => t.sentiment_score === -0.5);
      expect(sheet.getRow(formula + 2).getCell(8).value).toBe(-0.5);
    });

    it('accepts excel as another name for xlsx', async () => {
      const file = await download(api, { metric_types: ['sentiment_score'], ...RANGE, format: 'excel' });
      expect(file.status, file.text).toBe(200);
      expect(file.headers.get('content-type')).toBe(XLSX_TYPE);
      expect(file.headers.get('content-disposition')).toMatch(/\.xlsx"$/);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(file.buffer as unknown as ArrayBuffer);
      expect(workbook.worksheets.map((s) => s.name)).toEqual(['sentiment_score']);
    });
  });

  describe('json', () => {
    it('holds the normalized request, the series and, when asked, the raw tickets', async () => {
      const file = await download(api, {
        metric_types: ['sentiment_score', 'ticket_count', 'sentiment_score'],
        start_date: '2025-03-01',
        end_date: '2025-03-08',
        timezone: 'america/new_york',
        granularity: 'weekly',
        filters: { priority: ['urgent', 'medium', 'high', 'medium'] },
        format: 'json',
        include_raw_data: true,
      });
      expect(file.status, file.text).toBe(200);
      expect(file.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = JSON.parse(file.text);
      expect(Object.keys(body)).toEqual(['metadata', 'series', 'tickets']);
      expect(body.metadata).toEqual({
        metric_types: ['sentiment_score', 'ticket_count'],
        start_date: '2025-03-01T00:00:00-05:00',
        end_date: '2025-03-08T00:00:00-05:00',
        granularity: 'weekly',
        timezone: 'America/New_York',
        filters: { priority: ['high', 'medium', 'urgent'] },
        include_raw_data: true,
        format: 'json',
        organization_id: orgOf(api),
        generated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/),
      });
      expect(Object.keys(body.series)).toEqual(['sentiment_score', 'ticket_count']);
      const query = {
        start_date: '2025-03-01',
        end_date: '2025-03-08',
        timezone: 'America/New_York',
        granularity: 'weekly',
        priority: ['urgent', 'medium', 'high'],
      };
      for (const metric of ['sentiment_score', 'ticket_count']) {
        expect(body.series[metric]).toEqual((await timeSeries(metric, query)).data_points);
      }
      const start = Date.parse('2025-03-01T05:00:00Z');
      const end = Date.parse('2025-03-08T05:00:00Z');
      const expected = tickets
        .filter((t) => Date.parse(t.created_at) >= start && Date.parse(t.created_at) < end)
        .filter((t) => ['urgent', 'medium', 'high'].includes(t.priority))
        .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || (a.id < b.id ? -1 : 1));
      expect(body.tickets.map((t: Ticket) => t.id)).toEqual(expected.map((t) => t.id));
      body.tickets.forEach((row: Record<string, unknown>, i: number) => {
        expect(Object.keys(row)).toEqual([...RAW_COLUMNS]);
        // JSON is not a spreadsheet: text is as stored.
        expectRawRow(row, expected[i], (_, value) => value);
      });
    });

    it('has no tickets key without include_raw_data', async () => {
      const file = await download(api, { metric_types: ['ticket_count'], period: '7d', format: 'json' });
      expect(file.status, file.text).toBe(200);
      const body = JSON.parse(file.text);
      expect(Object.keys(body)).toEqual(['metadata', 'series']);
      expect(body.metadata.include_raw_data).toBe(false);
      expect(body.metadata.granularity).toBe('daily');
      expect(body.series.ticket_count).toHaveLength(8);
    });
  });

  it('names the file pulse_<org>_<start>_<end>.<ext> with the range in UTC', async () => {
    const org = orgOf(api);
    const body = { metric_types: ['ticket_count'], start_date: '2025-03-01T00:00:00', end_date: '2025-03-08T12:30:15' };
    const berlin = { ...body, timezone: 'Europe/Berlin' };
    for (const [request, format, name] of [
      [body, 'csv', `pulse_${org}_20250301T000000Z_20250308T123015Z.csv`],
      [berlin, 'csv', `pulse_${org}_20250228T230000Z_20250308T113015Z.csv`],
      [berlin, 'json', `pulse_${org}_20250228T230000Z_20250308T113015Z.json`],
      [body, 'xlsx', `pulse_${org}_20250301T000000Z_20250308T123015Z.xlsx`],
      [body, 'excel', `pulse_${org}_20250301T000000Z_20250308T123015Z.xlsx`],
    ] as const) {
      const file = await download(api, { ...request, format });
      expect(file.status, file.text).toBe(200);
      expect(file.headers.get('content-disposition')).toBe(`attachment; filename="${name}"`);
      expect(file.headers.get('x-request-id')).toBeTruthy();
    }
  });

  describe('raw rows', () => {
    it('are only the tickets that match the filters', async () => {
      const filters = { status: ['open', 'closed'], assignee_id: ['unassigned', 'agent-1'] };
      const file = await download(api, {
        metric_types: ['ticket_count'],
        ...RANGE,
        filters,
        format: 'csv',
        include_raw_data: true,
      });
      expect(file.status, file.text).toBe(200);
      const expected = expectedRows(
        tickets,
        (t) => filters.status.includes(t.status) && (t.assignee_id === null || t.assignee_id === 'agent-1'),
      );
      expect(expected.length).toBeGreaterThan(1);
      expect(csvRecords(file.text).map((r) => r.id)).toEqual(expected.map((t) => t.id));

      const json = await download(api, {
        metric_types: ['ticket_count'],
        ...RANGE,
        filters,
        format: 'json',
        include_raw_data: true,
      });
      expect(JSON.parse(json.text).tickets.map((t: Ticket) => t.id)).toEqual(expected.map((t) => t.id));
    });

    it('take filter values as data, never as SQL', async () => {
      const agent = new Api(server.url, tokenFor(newOrganizationId(), 'agent'));
      const sly = `x'); DELETE FROM tickets; --\\ "$1" current_setting('pulse.param_1')`;
      const { body: ticket } = await agent.post(
        '/api/v1/tickets',
        buildTicket({ assignee_id: sly, created_at: '2025-03-02T00:00:00Z' }),
      );
      await agent.post('/api/v1/tickets', buildTicket({ assignee_id: 'someone', created_at: '2025-03-02T00:00:00Z' }));
      for (const format of ['csv', 'json']) {
        const file = await download(agent, {
          metric_types: ['ticket_count'],
          ...RANGE,
          filters: { assignee_id: [sly] },
          format,
          include_raw_data: true,
        });
        expect(file.status, file.text).toBe(200);
        const rows = format === 'csv' ? csvRecords(file.text) : JSON.parse(file.text).tickets;
        expect(rows.map((r: Ticket) => [r.id, r.assignee_id])).toEqual([[ticket.id, sly]]);
      }
    });

    it('of an empty range are a header, an empty list, an empty sheet', async () => {
      const empty = {
        metric_types: ['ticket_count'],
        start_date: '2020-01-01',
        end_date: '2020-01-02',
        include_raw_data: true,
      };
      expect((await download(api, { ...empty, format: 'csv' })).text).toBe(`${RAW_COLUMNS.join(',')}\n`);
      expect(JSON.parse((await download(api, { ...empty, format: 'json' })).text).tickets).toEqual([]);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load((await download(api, { ...empty, format: 'xlsx' })).buffer as unknown as ArrayBuffer);
      expect(workbook.getWorksheet('tickets')!.rowCount).toBe(1);
    });

    it('never include another organization’s tickets', async () => {
      const others = new Set(otherTickets.map((t) => t.id));
      for (const format of ['csv', 'json', 'xlsx']) {
        const file = await download(api, { metric_types: ['ticket_count'], ...RANGE, format, include_raw_data: true });
        expect(file.status).toBe(200);
        for (const id of others) expect(file.buffer.includes(id)).toBe(false);
      }
      const file = await download(api, { metric_types: ['ticket_count'], ...RANGE, format: 'json' });
      const total = JSON.parse(file.text).series.ticket_count.reduce(
        (n: number, p: { count: number }) => n + p.count,
        0,
      );
      expect(total).toBe(expectedRows(tickets).length);
    });

    it('are refused with a 400 past EXPORT_MAX_ROWS, before anything is sent', async () => {
      const small = await startApp({ EXPORT_MAX_ROWS: '3' });
      try {
        const agent = new Api(small.url, tokenFor(newOrganizationId(), 'agent'));
        for (const hour of [1, 2, 3])
          await agent.post('/api/v1/tickets', buildTicket({ created_at: `2025-03-02T0${hour}:00:00Z` }));
        const body = { metric_types: ['ticket_count'], ...RANGE, include_raw_data: true };
        for (const format of ['csv', 'json', 'xlsx']) {
          expect((await download(agent, { ...body, format })).status).toBe(200);
        }
        await agent.post('/api/v1/tickets', buildTicket({ created_at: '2025-03-02T04:00:00Z' }));
        for (const format of ['csv', 'json', 'xlsx']) {
          const refused = await agent.post(EXPORT, { ...body, format });
          expect(expectError(refused, 400, 'EXPORT_MAX_ROWS', 'more than 3').code).toBe('VALIDATION_FAILED');
        }
        // The series alone are not limited.
        expect((await download(agent, { ...body, include_raw_data: false, format: 'csv' })).status).toBe(200);
      } finally {
        await small.close();
      }
    });
  });

  describe('validation', () => {
    const valid = { metric_types: ['ticket_count'], ...RANGE, format: 'csv' };

    it('refuses an unknown format, naming format and the allowed ones', async () => {
      expectError(await api.post(EXPORT, { ...valid, format: 'pdf' }), 400, 'format', 'csv, json, xlsx, excel');
      expectError(await api.post(EXPORT, { ...valid, format: undefined }), 400, 'format');
    });

    it('refuses an unknown filter key, naming the allowed dimensions', async () => {
      const response = await api.post(EXPORT, { ...valid, filters: { team: ['a'] } });
      expectError(response, 400, 'filters.team', 'status, priority, channel, category, assignee_id');
      expectError(await api.post(EXPORT, { ...valid, filters: { status: ['nope'] } }), 400, 'filters.status');
      expectError(await api.post(EXPORT, { ...valid, filters: ['status'] }), 400, 'filters');
    });

    it('refuses bad metric types, a missing range, bad granularity and unknown properties', async () => {
      expectError(await api.post(EXPORT, { ...valid, metric_types: [] }), 400, 'metric_types');
      expectError(await api.post(EXPORT, { ...valid, metric_types: ['nope'] }), 400, 'metric_types');
      expectError(
        await api.post(EXPORT, { ...valid, metric_types: 'ticket_count' }),
        400,
        'metric_types must be an array',
      );
      expectError(await api.post(EXPORT, { metric_types: ['ticket_count'], format: 'csv' }), 400, 'range is required');
      expectError(await api.post(EXPORT, { ...valid, period: '7d' }), 400, 'period');
      expectError(await api.post(EXPORT, { ...valid, granularity: 'minutely' }), 400, 'granularity');
      expectError(await api.post(EXPORT, { ...valid, timezone: 'Mars/Olympus' }), 400, 'timezone');
      expectError(await api.post(EXPORT, { ...valid, include_raw_data: 'yes' }), 400, 'include_raw_data');
      expectError(await api.post(EXPORT, { ...valid, use_cache: false }), 400, 'use_cache');
      expectError(await api.post(EXPORT, { ...valid, organization_id: 1 }), 400, 'organization_id');
      const years = { ...valid, start_date: '2023-01-01', end_date: '2025-01-01', granularity: 'hourly' };
      expect(expectError(await api.post(EXPORT, years), 400).code).toBe('BUCKET_LIMIT_EXCEEDED');
    });

    it('lets a viewer export, and nobody without a token', async () => {
      const viewer = api.as(tokenFor(orgOf(api), 'viewer'));
      expect((await download(viewer, valid)).status).toBe(200);
      expectError(await api.as(undefined).post(EXPORT, valid), 401);
    });
  });
});

describe('POST /analytics/export streaming', () => {
  let server: TestApp;
  let db: pg.Pool;

  const analyticsPool = () => poolOf(server.app.get(getDataSourceToken(ANALYTICS_CONNECTION)));
  /** Connections of the app's analytics pool that are checked out. */
  const checkedOut = () => analyticsPool().totalCount - analyticsPool().idleCount;
  /** Server processes of the app's analytics pool in a query or a transaction: the export's. */
  const exportBackends = async () => {
    const pids = (analyticsPool() as unknown as { _clients: { processID: number }[] })._clients.map((c) => c.processID);
    const { rows } = await db.query(`SELECT pid FROM pg_stat_activity WHERE pid = ANY($1) AND state <> 'idle'`, [pids]);
    return rows.map((r) => r.pid as number);
  };
  const alive = async (pids: number[]) =>
    (await db.query(`SELECT pid FROM pg_stat_activity WHERE pid = ANY($1)`, [pids])).rows.map((r) => r.pid as number);

  /** An organization with `rows` tickets created a second apart from the range's start. */
  const seeded = async (rows: number) => {
    const organizationId = newOrganizationId();
    await db.query(
      `INSERT INTO tickets (organization_id, external_id, status, priority, channel, category, created_at, updated_at)
       SELECT $1, 'bulk-' || i, 'open', 'low', 'web', 'general', $2::timestamptz + i * interval '1 second', now()
       FROM generate_series(1, $3::int) AS i`,
      [organizationId, RANGE.start_date, rows],
    );
    return new Api(server.url, tokenFor(organizationId, 'viewer'));
  };

  beforeAll(async () => {
    server = await startApp();
    db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await db.end();
    await server.close();
  });

  const start = (api: Api, format: string, signal?: AbortSignal) =>
    fetch(`${server.url}${EXPORT}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metric_types: ['ticket_count'], ...RANGE, format, include_raw_data: true }),
      signal,
    });

  describe('a whole file', () => {
    const ROWS = 30_000;
    let api: Api;
    beforeAll(async () => {
      api = await seeded(ROWS);
    });

    it.each(['csv', 'json', 'xlsx'])('%s streams every row and gives the connection back', async (format) => {
      const response = await start(api, format);
      expect(response.status).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      if (format === 'csv') expect(body.toString().trimEnd().split('\n')).toHaveLength(ROWS + 1);
      if (format === 'json') expect(JSON.parse(body.toString()).tickets).toHaveLength(ROWS);
      if (format === 'xlsx') {
        const workbook = new ExcelJS.Workbook();
        await workbook.xlsx.load(body as unknown as ArrayBuffer);
        expect(workbook.getWorksheet('tickets')!.rowCount).toBe(ROWS + 1);
      }
      await expect.poll(checkedOut).toBe(0);
    });
  });

  describe('cut short', () => {
    // A Citus coordinator gathers a query's whole result from its worker before it returns the first
    // row of a cursor, and only notices the client gone once it has (about a second for these rows).
    const STOP_TIMEOUT_MS = CITUS ? 15_000 : 1_000;
    // More than the socket buffers between PostgreSQL and the client hold, so the query is still running.
    const ROWS = 300_000;
    let api: Api;
    beforeAll(async () => {
      api = await seeded(ROWS);
    });

    it.each(['csv', 'json', 'xlsx'])('%s: a client that goes away mid-file stops the query', async (format) => {
      const abort = new AbortController();
      const response = await start(api, format, abort.signal);
      const reader = response.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      const backends = await exportBackends();
      abort.abort();
      expect(backends).toHaveLength(1);
      await expect.poll(() => alive(backends), { timeout: STOP_TIMEOUT_MS }).toEqual([]);
      await expect.poll(checkedOut).toBe(0);
    });

    it('a database failure mid-file aborts the response, and the service carries on', async () => {
      const response = await start(api, 'csv');
      const reader = response.body!.getReader();
      try {
        expect((await reader.read()).done).toBe(false);
        const backends = await exportBackends();
        expect(backends).toHaveLength(1);
        await db.query('SELECT pg_terminate_backend($1::int)', backends);
        await expect(
          (async () => {
            while (!(await reader.read()).done);
          })(),
        ).rejects.toThrow();
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      await expect.poll(checkedOut).toBe(0);
      const again = await start(api, 'csv');
      expect(again.status).toBe(200);
      expect((await again.text()).trimEnd().split('\n')).toHaveLength(ROWS + 1);
    });
  });
});

function orgOf(api: Api): number {
  return JSON.parse(Buffer.from(api.token!.split('.')[1], 'base64url').toString()).org_id;
}
