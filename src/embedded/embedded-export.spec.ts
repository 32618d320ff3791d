import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createApp } from '../app.factory.js';
import { signToken } from '../auth/token.service.js';
import { JWT_SECRET, testConfig } from '../../test/support/app.js';
import { OUTPUT_HIGH_WATER_MARK } from './client-output.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

const TICKETS = 150_000;
const RANGE = { start_date: '2025-03-01T00:00:00Z', end_date: '2025-03-08T00:00:00Z' };
const ORGANIZATION_ID = 7;

/**
 * A raw CSV export in embedded mode, read by a client that stops reading:
 * the export's COPY runs to its end inside PGlite at once, and what the
 * client has not taken must wait on disk, not in the process's memory.
 */
describe('a raw CSV export in embedded mode, read slowly', () => {
  let dataDir: string;
  let database: EmbeddedPostgres;
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-embedded-export-'));
    database = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg') });
    app = await createApp(testConfig({ PULSE_EMBEDDED: 'true', DATABASE_URL: database.url, LOG_LEVEL: 'error' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.getHttpServer().address() as { port: number }).port;
    const db = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      await db.query(
        `INSERT INTO tickets (organization_id, external_id, status, priority, channel, category, created_at, updated_at)
         SELECT $1, 'bulk-' || i, 'open', 'low', 'web', 'general', $2::timestamptz + i * interval '1 second', now()
         FROM generate_series(1, $3::int) AS i`,
        [ORGANIZATION_ID, RANGE.start_date, TICKETS],
      );
    } finally {
      await db.end();
    }
  });
  afterAll(async () => {
    await app?.close();
    await database?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds at most the high water mark of it in memory, and sends every row', async () => {
    const response = await exportCsv();
    expect(response.statusCode).toBe(200);
    response.pause();
    // PGlite runs in this process: once the first bytes are out, the COPY has produced them all.
    await new Promise((resolve) => response.once('readable', resolve));
    const held = database.stats();
    expect(held.bufferedBytes).toBeLessThanOrEqual(OUTPUT_HIGH_WATER_MARK + 512 * 1024);
    expect(held.spilledBytes).toBeGreaterThan(2 * 1024 * 1024);

    let lines = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      for (const byte of chunk) if (byte === 0x0a) lines++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(lines).toBe(TICKETS + 1);
    await expect.poll(() => database.stats().spilledBytes).toBe(0);
  });

  function exportCsv(): Promise<IncomingMessage> {
    const token = signToken({ sub: 'export-spec', org_id: ORGANIZATION_ID, role: 'viewer' }, JWT_SECRET, 600);
    const body = JSON.stringify({ metric_types: ['ticket_count'], ...RANGE, format: 'csv', include_raw_data: true });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/analytics/export',
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }
});
