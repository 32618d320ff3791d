/**
 * Throughput and memory of a raw CSV export: every ticket of an organization
 * with 1,000,000 tickets (BENCH_TICKETS to change) streamed from
 * POST /analytics/export with include_raw_data.
 *
 *   npm run bench:export      (builds, then uses DATABASE_URL / REDIS_URL from .env)
 *   BENCH_TICKETS=100000 BENCH_FORMATS=csv,json,xlsx node bench/export.mjs
 *
 * Loads the tickets straight into PostgreSQL with COPY FROM STDIN
 * (bench/seed.mjs; the bulk API would take minutes for a million), starts the
 * built service as its own process, reads each export as fast as this process
 * can, and reports rows per second and the service's resident memory: before
 * the export, and its peak (VmHWM of /proc/<pid>/status), which stays flat
 * when rows stream rather than pile up. Deletes its tickets afterwards.
 * Prints figures; decides nothing.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { seedTickets } from './seed.mjs';
import { startService } from './service.mjs';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 1_000_000);
const FORMATS = (process.env.BENCH_FORMATS ?? 'csv').split(',');
const DAYS = 365;

const config = loadConfig();
const organizationId = randomInt(1, 2 ** 47);
const loadStarted = performance.now();
await seedTickets(config.databaseUrl, organizationId, TICKETS, { days: DAYS });
const loadSeconds = (performance.now() - loadStarted) / 1000;
console.log(`seeded ${TICKETS} tickets in ${loadSeconds.toFixed(1)} s (COPY FROM STDIN)`);

const service = await startService({ EXPORT_MAX_ROWS: String(Math.max(TICKETS, 1_000_000)) });
/** A memory figure of the service process, in MB. */
const memory = (field) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${service.pid}/status`, 'utf8'))[1]) /
  1024;
const headers = {
  authorization: `Bearer ${signToken({ sub: 'bench', org_id: organizationId, role: 'viewer' }, config.jwtSecret, 3600)}`,
  'content-type': 'application/json',
};
const body = (format) =>
  JSON.stringify({
    metric_types: ['ticket_count'],
    start_date: new Date(Date.now() - (DAYS + 1) * 86_400_000).toISOString(),
    end_date: new Date(Date.now() + 60_000).toISOString(),
    format,
    include_raw_data: true,
  });

try {
  for (const format of FORMATS) {
    const before = memory('VmRSS');
    const started = performance.now();
    const response = await fetch(`${service.url}/api/v1/analytics/export`, {
      method: 'POST',
      headers,
      body: body(format),
    });
    if (response.status !== 200) throw new Error(`export answered ${response.status}: ${await response.text()}`);
    let bytes = 0;
    let lines = 0;
    let firstByteMs = null;
    for await (const chunk of response.body) {
      firstByteMs ??= performance.now() - started;
      bytes += chunk.length;
      if (format === 'csv') for (const byte of chunk) if (byte === 10) lines++;
    }
    const seconds = (performance.now() - started) / 1000;
    if (format === 'csv' && lines !== TICKETS + 1) throw new Error(`expected ${TICKETS + 1} lines, got ${lines}`);
    console.log(
      `${format.padEnd(4)} ${TICKETS} rows in ${seconds.toFixed(1)} s = ${Math.round(TICKETS / seconds)} rows/s, ` +
        `${(bytes / 2 ** 20).toFixed(0)} MB, first byte after ${firstByteMs.toFixed(0)} ms; ` +
        `service RSS ${before.toFixed(0)} MB before, peak ${memory('VmHWM').toFixed(0)} MB`,
    );
  }
} finally {
  service.stop();
  const db = new pg.Client({ connectionString: config.databaseUrl });
  await db.connect();
  await db.query('DELETE FROM tickets WHERE organization_id = $1', [organizationId]);
  await db.end();
}
