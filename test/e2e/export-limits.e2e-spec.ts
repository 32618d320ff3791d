import { getDataSourceToken } from '@nestjs/typeorm';
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { Api } from '../support/http.js';
import { expectError } from '../support/errors.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { ANALYTICS_CONNECTION } from '../../src/database/database-options.js';
import { poolUsage } from '../../src/database/pg-pool.js';

/**
 * A raw export holds a connection of the analytics pool for as long as its
 * download lasts. Downloads whose client stops reading are ended after
 * EXPORT_IDLE_TIMEOUT_MS, and only so many raw exports run at once, per
 * instance and per organization, so slow or stalled readers cannot take the
 * connections the analytics queries need.
 */

const EXPORT = '/api/v1/analytics/export';
const RANGE = { start_date: '2025-03-01T00:00:00Z', end_date: '2025-06-01T00:00:00Z' };
// More than the buffers between PostgreSQL and a client that reads nothing hold.
const ROWS = 100_000;
const raw = (format = 'csv') => ({ metric_types: ['ticket_count'], ...RANGE, format, include_raw_data: true });

describe('raw exports under slow readers', () => {
  let db: pg.Pool;
  const sockets: Socket[] = [];

  /** An organization with ROWS tickets in the range, and a viewer's client for it on `server`. */
  const seeded = async () => {
    const organizationId = newOrganizationId();
    await db.query(
      `INSERT INTO tickets (organization_id, external_id, status, priority, channel, category, created_at, updated_at)
       SELECT $1, 'bulk-' || i, 'open', 'low', 'web', 'general', $2::timestamptz + i * interval '1 minute', now()
       FROM generate_series(1, $3::int) AS i`,
      [organizationId, RANGE.start_date, ROWS],
    );
    return organizationId;
  };
  /** Connections of the app's analytics pool that are lent out: one per raw export streaming. */
  const heldBy = (server: TestApp) => () => {
    const usage = poolUsage(server.app.get<DataSource>(getDataSourceToken(ANALYTICS_CONNECTION)));
    return usage.total - usage.idle;
  };
  /** Asks for a raw export and never reads a byte of the answer. */
  const stalledExport = (server: TestApp, organizationId: number): Socket => {
    const body = JSON.stringify(raw());
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `POST ${EXPORT} HTTP/1.1\r\nHost: pulse\r\nAuthorization: Bearer ${tokenFor(organizationId, 'viewer')}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.pause();
    sockets.push(socket);
    return socket;
  };
  const exportOf = (server: TestApp, organizationId: number, body: object = raw()) =>
    new Api(server.url, tokenFor(organizationId, 'viewer')).post(EXPORT, body);

  let organizationId: number;
  beforeAll(async () => {
    db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
    organizationId = await seeded();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(() => db.end());

  it('ends a download nobody reads after the idle timeout, giving its connection and its place back', async () => {
    const server = await startApp({ EXPORT_IDLE_TIMEOUT_MS: '1000', EXPORT_CONCURRENCY_PER_ORGANIZATION: '1' });
    try {
      const held = heldBy(server);
      stalledExport(server, organizationId);
      await expect.poll(held, { timeout: 10_000, interval: 20 }).toBe(1);
      // Released within the idle timeout and some slack; without it, held for as long as the socket stays open.
      await expect.poll(held, { timeout: 10_000, interval: 50 }).toBe(0);
      // The organization's one place is free again: a whole file.
      const again = await exportOf(server, organizationId);
      expect(again.status, again.text.slice(0, 300)).toBe(200);
      expect(again.text.trimEnd().split('\n')).toHaveLength(ROWS + 1);
      await expect.poll(held).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a raw export over the limit of its organization (429) or of the instance (503)', async () => {
    const server = await startApp({ EXPORT_CONCURRENCY: '2', EXPORT_CONCURRENCY_PER_ORGANIZATION: '1' });
    try {
      const held = heldBy(server);
      const other = await seeded();
      const third = newOrganizationId();
      stalledExport(server, organizationId);
      await expect.poll(held, { timeout: 10_000, interval: 20 }).toBe(1);

      const overOrganization = await exportOf(server, organizationId);
      expect(expectError(overOrganization, 429, 'raw exports of an organization').code).toBe('RATE_LIMITED');
      expect(Number(overOrganization.headers.get('retry-after'))).toBeGreaterThan(0);

      stalledExport(server, other);
      await expect.poll(held, { timeout: 10_000, interval: 20 }).toBe(2);
      const overInstance = await exportOf(server, third);
      expect(expectError(overInstance, 503, 'raw exports').code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(overInstance.headers.get('retry-after'))).toBeGreaterThan(0);
      // Exports of the series alone hold no connection and are not counted.
      expect((await exportOf(server, third, { ...raw(), include_raw_data: false })).status).toBe(200);

      // Clients that go away give their places back.
      for (const socket of sockets.splice(0)) socket.destroy();
      await expect.poll(held, { timeout: 10_000, interval: 50 }).toBe(0);
      const after = await exportOf(server, third);
      expect(after.status, after.text).toBe(200);
    } finally {
      await server.close();
    }
  });
});
