import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { Api, qs } from '../support/http.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { migratedDatabase, sideDatabaseUrl } from '../support/database.js';

const STATEMENT_TIMEOUT_MS = 1000;

describe('a PostgreSQL stall', () => {
  let server: TestApp;
  let locker: pg.Client;

  beforeAll(async () => {
    // A database of its own: the lock below would otherwise stall every other test file.
    const url = sideDatabaseUrl('pulse_test_stall');
    await migratedDatabase(url);
    server = await startApp({ DATABASE_URL: url, ANALYTICS_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) });
    locker = new pg.Client({ connectionString: url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.end();
    await server.close();
  });

  it('answers 503 with Retry-After within the statement timeout + 1 s, and normally once the lock is gone', async () => {
    const api = new Api(server.url, tokenFor(newOrganizationId(), 'viewer'));
    const path = `/api/v1/analytics/time-series/ticket_count${qs({ period: '7d', use_cache: 'false' })}`;
    await locker.query('BEGIN');
    // Blocks every read of tickets, as a migration or a runaway maintenance job would.
    await locker.query('LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE');
    try {
      const started = performance.now();
      const stalled = await api.get(path);
      const elapsed = performance.now() - started;
      expect(stalled.status, stalled.text).toBe(503);
      expect(stalled.body).toMatchObject({ statusCode: 503, code: 'QUERY_TIMEOUT' });
      expect(Number(stalled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(elapsed).toBeLessThan(STATEMENT_TIMEOUT_MS + 1000);
      const figures = { statement_timeout_ms: STATEMENT_TIMEOUT_MS, answered_503_after_ms: Math.round(elapsed) };
      console.log(`database-stall ${JSON.stringify(figures)}`);
      mkdirSync('test/artifacts', { recursive: true });
      writeFileSync('test/artifacts/database-stall.json', `${JSON.stringify(figures, null, 2)}\n`);
    } finally {
      await locker.query('ROLLBACK');
    }
    const after = await api.get(path);
    expect(after.status).toBe(200);
    expect(after.body.total_count).toBe(0);
  });
});
