/**
 * Rollups against the raw rows: an organization with 1,000,000 tickets over a
 * year next to another with 1,000,000 (BENCH_TICKETS to change), seeded with
 * COPY and then rolled up.
 *
 * - one-year daily ticket_count, use_cache=false, through Pulse (UTC and
 *   Asia/Kathmandu), against a plain GROUP BY over the raw rows that this
 *   bench runs itself, in alternating rounds: the median of the per-round
 *   ratios (raw median / Pulse median) with their spread;
 * - the 30-day dashboard, use_cache=false;
 * - single POST /tickets p50/p99 with the rollups maintained in its transaction;
 * - rollup rows and bytes against the tickets.
 *
 *   npm run bench:rollups     (builds, then uses DATABASE_URL / REDIS_URL from .env)
 */
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { copySeconds, rollupSeconds, seedTickets } from './seed.mjs';
import { quantile, startService } from './service.mjs';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 10);
const WRITES = Number(process.env.BENCH_WRITES ?? 300);

const config = loadConfig();
// BENCH_ORGS=<neighbour>,<org> measures organizations seeded by an earlier run.
const [neighbour, org] = process.env.BENCH_ORGS?.split(',').map(Number) ?? [
  randomInt(1, 2 ** 47),
  randomInt(1, 2 ** 47),
];
const seeded = [];
if (!process.env.BENCH_ORGS) {
  for (const id of [neighbour, org]) {
    const started = performance.now();
    await seedTickets(config.databaseUrl, id, TICKETS);
    seeded.push({ seconds: (performance.now() - started) / 1000, rollupSeconds });
  }
}

// Without JIT, as Pulse's analytics connections run: both sides pay the same compiler, none.
const db = new pg.Client({ connectionString: config.databaseUrl, options: '-c jit=off' });
await db.connect();
const service = await startService({ RATE_LIMIT_REQUESTS: '1000000', RATE_LIMIT_FORCED: '1000000' });
const token = signToken({ sub: 'bench', org_id: org, role: 'admin' }, config.jwtSecret, 3600);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const end = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000);
const start = new Date(end.getTime() - 365 * 86_400_000);
const seriesUrl = (timezone) =>
  `${service.url}/api/v1/analytics/time-series/ticket_count?start_date=${start.toISOString()}&end_date=${end.toISOString()}` +
  `&granularity=daily&timezone=${encodeURIComponent(timezone)}&use_cache=false`;
const RAW_SQL = `SELECT date_trunc('day', created_at, 'UTC') AS day, count(*)::int AS count
                 FROM tickets WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3
                 GROUP BY 1 ORDER BY 1`;

async function timed(run) {
  const times = [];
  let result;
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    result = await run();
    times.push(performance.now() - started);
  }
  return { times, result };
}
async function pulse(url) {
  const response = await fetch(url, { headers });
  const body = await response.json();
  if (response.status !== 200) throw new Error(`answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

// Warm both paths once, and check they agree.
const warm = await pulse(seriesUrl('UTC'));
const { rows: rawWarm } = await db.query(RAW_SQL, [org, start, end]);
const rawTotal = rawWarm.reduce((n, r) => n + r.count, 0);
if (rawTotal !== warm.total_count) throw new Error(`Pulse counted ${warm.total_count}, GROUP BY ${rawTotal}`);

const ratios = [];
const all = { pulse: [], raw: [], kathmandu: [], dashboard: [] };
for (let round = 0; round < ROUNDS; round++) {
  const p = await timed(() => pulse(seriesUrl('UTC')));
  const r = await timed(() => db.query(RAW_SQL, [org, start, end]));
  const k = await timed(() => pulse(seriesUrl('Asia/Kathmandu')));
  const d = await timed(() => pulse(`${service.url}/api/v1/analytics/dashboard?period=30d&use_cache=false`));
  ratios.push(quantile(r.times, 0.5) / quantile(p.times, 0.5));
  all.pulse.push(...p.times);
  all.raw.push(...r.times);
  all.kathmandu.push(...k.times);
  all.dashboard.push(...d.times);
}

const writes = [];
for (let i = 0; i < WRITES; i++) {
  const started = performance.now();
  const response = await fetch(`${service.url}/api/v1/tickets`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ priority: 'high', channel: 'chat', sentiment_score: 0.3 }),
  });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`POST /tickets answered ${response.status}`);
  writes.push(performance.now() - started);
}
// Bulk ingest through the API (rollups maintained per batch) against COPY of as many rows, side by side.
const BULK = 10_000;
const bulkOrg = randomInt(1, 2 ** 47);
const bulkHeaders = {
  ...headers,
  authorization: `Bearer ${signToken({ sub: 'bench', org_id: bulkOrg, role: 'admin' }, config.jwtSecret, 3600)}`,
};
const bulkRates = [];
const copyRates = [];
for (let round = 0; round < 3; round++) {
  const items = Array.from({ length: BULK }, (_, i) => ({
    created_at: new Date(start.getTime() + ((i * 9973) % (365 * 86_400)) * 1000).toISOString(),
    priority: ['low', 'medium', 'high', 'urgent'][i % 4],
    channel: ['email', 'chat', 'phone', 'web', 'slack'][i % 5],
    sentiment_score: (i % 21) / 10 - 1,
  }));
  const started = performance.now();
  const response = await fetch(`${service.url}/api/v1/tickets/bulk`, {
    method: 'POST',
    headers: bulkHeaders,
    body: JSON.stringify({ tickets: items }),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`bulk answered ${response.status}`);
  bulkRates.push(BULK / ((performance.now() - started) / 1000));
  await seedTickets(config.databaseUrl, randomInt(1, 2 ** 47), BULK, { seed: round + 11 });
  copyRates.push(BULK / copySeconds);
}
await service.stop();

const { rows: storage } = await db.query(
  `SELECT (SELECT count(*) FROM ticket_rollups WHERE organization_id = $1)::int AS rollup_rows,
          (SELECT count(*) FROM tickets WHERE organization_id = $1)::int AS ticket_rows,
          pg_total_relation_size('ticket_rollups') AS rollup_bytes, pg_total_relation_size('tickets') AS ticket_bytes`,
  [org],
);
const { rows: byRollup } = await db.query(
  `SELECT rollup, grain, count(*)::int AS rows FROM ticket_rollups WHERE organization_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
  [org],
);
await db.end();

const ms = (values) =>
  `p50 ${quantile(values, 0.5).toFixed(1)} ms, p95 ${quantile(values, 0.95).toFixed(1)} ms, p99 ${quantile(values, 0.99).toFixed(1)} ms`;
const sorted = [...ratios].sort((a, b) => a - b);
console.log(`organizations ${neighbour} and ${org}, ${TICKETS} tickets each`);
if (seeded.length > 0) {
  console.log(
    `COPY + rollups: ${seeded.map((s) => `${s.seconds.toFixed(0)} s (rollups ${s.rollupSeconds.toFixed(0)} s)`).join(', ')}`,
  );
}
console.log(
  `one-year daily ticket_count (${warm.data_points.length} buckets, ${warm.total_count} tickets), ${ROUNDS} rounds × ${SAMPLES}:`,
);
console.log(`  Pulse UTC, use_cache=false   ${ms(all.pulse)}`);
console.log(`  Pulse Asia/Kathmandu         ${ms(all.kathmandu)}`);
console.log(`  plain GROUP BY (raw rows)    ${ms(all.raw)}`);
console.log(
  `  ratio raw/Pulse: median ${quantile(ratios, 0.5).toFixed(1)}× (rounds ${sorted.map((x) => x.toFixed(1)).join(', ')})`,
);
console.log(`30-day dashboard, use_cache=false: ${ms(all.dashboard)}`);
console.log(`single POST /tickets with rollups (${WRITES} sequential): ${ms(writes)}`);
const median = (xs) => quantile(xs, 0.5);
console.log(
  `bulk ingest, ${BULK} tickets per POST /tickets/bulk with rollups: median ${median(bulkRates).toFixed(0)} tickets/s; ` +
    `COPY of as many rows: median ${median(copyRates).toFixed(0)} rows/s (${(median(bulkRates) / median(copyRates)).toFixed(2)}× COPY, 3 rounds)`,
);
const [s] = storage;
console.log(
  `storage: ${s.rollup_rows} rollup rows for ${s.ticket_rows} tickets in the organization; ` +
    `table sizes (all organizations): ticket_rollups ${(s.rollup_bytes / 1e6).toFixed(0)} MB, tickets ${(s.ticket_bytes / 1e6).toFixed(0)} MB`,
);
console.log(`  ${byRollup.map((r) => `${r.rollup}/${r.grain}m ${r.rows}`).join(', ')}`);
