/**
 * Median latency of a cache HIT and of a MISS for a one-year daily
 * ticket_count series over 100,000 tickets of one organization.
 *
 *   npm run bench:cache       (builds, then uses DATABASE_URL / REDIS_URL from .env)
 *
 * Starts the built service as its own process on a free port, loads the
 * tickets through the bulk API, then times requests over loopback from this
 * process. Prints figures; decides nothing.
 */
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { quantile, startService } from './service.mjs';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 100_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const BATCH = 10_000;
const YEAR_MS = 365 * 24 * 3_600_000;

const config = loadConfig();
const service = await startService();
const base = `${service.url}/api/v1`;
const organizationId = randomInt(1, 2 ** 47);
const headers = {
  authorization: `Bearer ${signToken({ sub: 'bench', org_id: organizationId, role: 'admin' }, config.jwtSecret, 3600)}`,
  'content-type': 'application/json',
};

const end = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
const start = new Date(end.getTime() - YEAR_MS);
let seed = 42;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

const loadStarted = performance.now();
for (let offset = 0; offset < TICKETS; offset += BATCH) {
  const tickets = Array.from({ length: Math.min(BATCH, TICKETS - offset) }, () => {
    const created = start.getTime() + random() * YEAR_MS;
    return {
      created_at: new Date(created).toISOString(),
      priority: ['low', 'medium', 'high', 'urgent'][Math.floor(random() * 4)],
      channel: ['email', 'chat', 'phone', 'web'][Math.floor(random() * 4)],
      sentiment_score: Math.round((random() * 2 - 1) * 100) / 100,
      first_response_at: new Date(created + random() * 8 * 3_600_000).toISOString(),
    };
  });
  const response = await fetch(`${base}/tickets/bulk`, { method: 'POST', headers, body: JSON.stringify({ tickets }) });
  if (response.status !== 200) throw new Error(`bulk load failed: ${response.status} ${await response.text()}`);
}
const loadSeconds = (performance.now() - loadStarted) / 1000;

const path = `${base}/analytics/time-series/ticket_count?start_date=${start.toISOString()}&end_date=${end.toISOString()}&granularity=daily`;
async function timed(init = {}) {
  const started = performance.now();
  const response = await fetch(path, { headers, ...init });
  await response.arrayBuffer();
  return { ms: performance.now() - started, cache: response.headers.get('x-cache') };
}

// What autovacuum does soon after a bulk load; without it the first scans pay for hint bits.
const db = new pg.Client({ connectionString: config.databaseUrl });
await db.connect();
await db.query('VACUUM (ANALYZE) tickets');
await db.end();

const sample = async (expected, before) => {
  const times = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (before) await before();
    const { ms, cache } = await timed();
    if (cache !== expected) throw new Error(`expected ${expected}, got ${cache}`);
    times.push(ms);
  }
  return times;
};
const misses = await sample('MISS', () =>
  fetch(`${base}/analytics/cache?pattern=ticket_count`, { method: 'DELETE', headers }),
);
const hits = await sample('HIT');

const row = (name, values) =>
  `${name.padEnd(5)} median ${quantile(values, 0.5).toFixed(2)} ms   p95 ${quantile(values, 0.95).toFixed(2)} ms   (${values.length} requests)`;

console.log(
  `loaded ${TICKETS} tickets in ${loadSeconds.toFixed(1)} s (${Math.round(TICKETS / loadSeconds)} tickets/s through POST /tickets/bulk)`,
);
console.log(`one-year daily ticket_count series (366 buckets) over ${TICKETS} tickets of one organization:`);
console.log(row('HIT', hits));
console.log(row('MISS', misses));
service.stop();
