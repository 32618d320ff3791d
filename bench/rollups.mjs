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
 * - 90-day performance (the last 90 days to the minute, use_cache=false), accuracy=approximate
 *   (sketches) against accuracy=exact (percentile_cont over the raw rows),
 *   through Pulse in alternating rounds, and their SQL alone on one
 *   connection: the median of the per-round ratios with their spread;
 * - single POST /tickets p50/p99 with the rollups maintained in its transaction;
 * - rollup rows and bytes against the tickets.
 *
 *   npm run bench:rollups     (builds, then uses DATABASE_URL / REDIS_URL from .env)
 *   BENCH_ONLY=performance    only the performance part (BENCH_ORGS to reuse seeded organizations)
 *   BENCH_SERVICE_CPUS=0      pins the service (run the bench itself with taskset -c 1)
 *   BENCH_WARMUP=100          requests of each kind before the rounds (the service's code compiled)
 */
import { randomInt } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { compilePercentiles } from '../dist/src/metrics/query-compiler.js';
import { compileSketchReport } from '../dist/src/metrics/sketch-report.compiler.js';
import { copySeconds, rollupSeconds, seedTickets, sketchSeconds } from './seed.mjs';
import { quantile, startService } from './service.mjs';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 10);
// Requests of each kind sent before the rounds: a running service has compiled its hot code (the
// first rounds of a fresh process ran 2-3 times slower while V8 optimized it).
const WARMUP = Number(process.env.BENCH_WARMUP ?? 100);
const WRITES = Number(process.env.BENCH_WRITES ?? 300);
const ONLY = process.env.BENCH_ONLY;
const runs = (part) => ONLY === undefined || ONLY === part;

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
    seeded.push({ seconds: (performance.now() - started) / 1000, rollupSeconds, sketchSeconds });
  }
}

// Without JIT, as Pulse's analytics connections run: both sides pay the same compiler, none.
const db = new pg.Client({ connectionString: config.databaseUrl, options: '-c jit=off' });
await db.connect();
const service = await startService(
  { RATE_LIMIT_REQUESTS: '1000000', RATE_LIMIT_FORCED: '1000000' },
  { cpus: process.env.BENCH_SERVICE_CPUS },
);
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

const ratios = [];
const all = { pulse: [], raw: [], kathmandu: [], dashboard: [] };
let warm = null;
if (runs('series')) {
  // Warm both paths once, and check they agree.
  warm = await pulse(seriesUrl('UTC'));
  for (let i = 0; i < WARMUP; i++) {
    await pulse(seriesUrl('UTC'));
    await pulse(seriesUrl('Asia/Kathmandu'));
    await pulse(`${service.url}/api/v1/analytics/dashboard?period=30d&use_cache=false`);
  }
  const { rows: rawWarm } = await db.query(RAW_SQL, [org, start, end]);
  const rawTotal = rawWarm.reduce((n, r) => n + r.count, 0);
  if (rawTotal !== warm.total_count) throw new Error(`Pulse counted ${warm.total_count}, GROUP BY ${rawTotal}`);

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
}

// 90-day performance, approximate against exact, both computed (use_cache=false), alternating which goes first.
const perfEnd = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
const perfStart = new Date(perfEnd.getTime() - 90 * 86_400_000);
const perfUrl = (accuracy) =>
  `${service.url}/api/v1/analytics/performance?start_date=${perfStart.toISOString()}&end_date=${perfEnd.toISOString()}` +
  `&accuracy=${accuracy}&use_cache=false`;
const PERCENTILE_FIELDS = ['p50', 'p95', 'p99'].flatMap((p) => [`response_time_${p}`, `resolution_time_${p}`]);
const perf = { exact: [], approximate: [], ratios: [], sqlExact: [], sqlApproximate: [], sqlRatios: [] };
let perfChecked = null;
if (runs('performance')) {
  const [exactWarm, approximateWarm] = [await pulse(perfUrl('exact')), await pulse(perfUrl('approximate'))];
  for (const field of PERCENTILE_FIELDS) {
    const [e, a] = [exactWarm[field], approximateWarm[field]];
    if (Math.abs(a - e) > 0.01 * e * (1 + 1e-9)) throw new Error(`${field}: approximate ${a}, exact ${e}`);
  }
  if (exactWarm.sla_compliance_rate !== approximateWarm.sla_compliance_rate) {
    // Both exact, from different sums: equal to rounding.
    if (Math.abs(exactWarm.sla_compliance_rate - approximateWarm.sla_compliance_rate) > 1e-12) {
      throw new Error(`sla: ${approximateWarm.sla_compliance_rate} against ${exactWarm.sla_compliance_rate}`);
    }
  }
  perfChecked = exactWarm;
  for (let i = 0; i < WARMUP; i++) await pulse(perfUrl('approximate'));
  // The same statements on one connection of their own: what the database spends, without HTTP and Node.
  const range = { start: perfStart, end: perfEnd };
  const base = { organizationId: org, ...range, timezone: 'UTC', filters: {} };
  const targets = config.slaFirstResponseHours;
  const exactSql = [
    compilePercentiles({ ...base, metric: 'response_time' }, [0.5, 0.95, 0.99], targets),
    compilePercentiles({ ...base, metric: 'resolution_time' }, [0.5, 0.95, 0.99]),
  ];
  const sketchSql = compileSketchReport({ organizationId: org, ...range }, targets);
  const sqlExact = async () => {
    for (const q of exactSql) await db.query(q.text, q.values);
  };
  const sqlApproximate = () => db.query(sketchSql.text, sketchSql.values);
  for (let round = 0; round < ROUNDS; round++) {
    const pair = [() => timed(() => pulse(perfUrl('exact'))), () => timed(() => pulse(perfUrl('approximate')))];
    const [first, second] = round % 2 === 0 ? pair : [...pair].reverse();
    const x = await first();
    const y = await second();
    const [e, a] = round % 2 === 0 ? [x, y] : [y, x];
    perf.ratios.push(quantile(e.times, 0.5) / quantile(a.times, 0.5));
    perf.exact.push(...e.times);
    perf.approximate.push(...a.times);
    const se = await timed(sqlExact);
    const sa = await timed(sqlApproximate);
    perf.sqlRatios.push(quantile(se.times, 0.5) / quantile(sa.times, 0.5));
    perf.sqlExact.push(...se.times);
    perf.sqlApproximate.push(...sa.times);
  }
}
const writes = [];
const bulkRates = [];
const copyRates = [];
const BULK = 10_000;
if (runs('writes')) {
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
  const bulkOrg = randomInt(1, 2 ** 47);
  const bulkHeaders = {
    ...headers,
    authorization: `Bearer ${signToken({ sub: 'bench', org_id: bulkOrg, role: 'admin' }, config.jwtSecret, 3600)}`,
  };
  for (let round = 0; round < 3; round++) {
    const items = Array.from({ length: BULK }, (_, i) => ({
      // Within the last 364 days: the series range ends at the next UTC midnight, up to a day ahead of now.
      created_at: new Date(start.getTime() + ((i * 9973) % (364 * 86_400)) * 1000).toISOString(),
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
}
await service.stop();

const { rows: storage } = await db.query(
  `SELECT (SELECT count(*) FROM ticket_rollups WHERE organization_id = $1)::int AS rollup_rows,
          (SELECT count(*) FROM ticket_sketches WHERE organization_id = $1)::int AS sketch_rows,
          (SELECT count(*) FROM tickets WHERE organization_id = $1)::int AS ticket_rows,
          pg_total_relation_size('ticket_rollups') AS rollup_bytes, pg_total_relation_size('ticket_sketches') AS sketch_bytes,
          pg_total_relation_size('tickets') AS ticket_bytes`,
  [org],
);
const { rows: byRollup } = await db.query(
  `SELECT rollup, grain, count(*)::int AS rows FROM ticket_rollups WHERE organization_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
  [org],
);
const { rows: byGrain } = await db.query(
  `SELECT grain, count(*)::int AS rows FROM ticket_sketches WHERE organization_id = $1 GROUP BY 1 ORDER BY 1`,
  [org],
);
const load = loadavg();
await db.end();

const ms = (values) =>
  `p50 ${quantile(values, 0.5).toFixed(1)} ms, p95 ${quantile(values, 0.95).toFixed(1)} ms, p99 ${quantile(values, 0.99).toFixed(1)} ms`;
const sorted = [...ratios].sort((a, b) => a - b);
console.log(`organizations ${neighbour} and ${org}, ${TICKETS} tickets each`);
if (seeded.length > 0) {
  console.log(
    `COPY + rollups + sketches: ${seeded.map((s) => `${s.seconds.toFixed(0)} s (rollups ${s.rollupSeconds.toFixed(0)} s, sketches ${s.sketchSeconds.toFixed(0)} s)`).join(', ')}`,
  );
}
if (warm !== null) {
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
}
const median = (xs) => quantile(xs, 0.5);
const spread = (xs) =>
  [...xs]
    .sort((a, b) => a - b)
    .map((x) => x.toFixed(1))
    .join(', ');
if (perfChecked !== null) {
  console.log(
    `90-day performance (${perfChecked.start_date} – ${perfChecked.end_date}), use_cache=false, ${ROUNDS} alternating rounds × ${SAMPLES}; ` +
      `exact p95 response ${perfChecked.response_time_p95.toFixed(3)} h:`,
  );
  console.log(`  Pulse accuracy=approximate   ${ms(perf.approximate)}`);
  console.log(`  Pulse accuracy=exact         ${ms(perf.exact)}`);
  console.log(`  ratio exact/approximate: median ${median(perf.ratios).toFixed(1)}× (rounds ${spread(perf.ratios)})`);
  console.log(`  SQL alone, sketches          ${ms(perf.sqlApproximate)}`);
  console.log(`  SQL alone, percentile_cont   ${ms(perf.sqlExact)} (both metrics, one after the other)`);
  console.log(`  SQL ratio: median ${median(perf.sqlRatios).toFixed(1)}× (rounds ${spread(perf.sqlRatios)})`);
}
if (writes.length > 0) {
  console.log(`single POST /tickets with rollups (${WRITES} sequential): ${ms(writes)}`);
  console.log(
    `bulk ingest, ${BULK} tickets per POST /tickets/bulk with rollups: median ${median(bulkRates).toFixed(0)} tickets/s; ` +
      `COPY of as many rows: median ${median(copyRates).toFixed(0)} rows/s (${(median(bulkRates) / median(copyRates)).toFixed(2)}× COPY, 3 rounds)`,
  );
}
const [s] = storage;
console.log(
  `storage: ${s.rollup_rows} rollup rows for ${s.ticket_rows} tickets in the organization; ` +
    `table sizes (all organizations): ticket_rollups ${(s.rollup_bytes / 1e6).toFixed(0)} MB, tickets ${(s.ticket_bytes / 1e6).toFixed(0)} MB`,
);
console.log(`  ${byRollup.map((r) => `${r.rollup}/${r.grain}m ${r.rows}`).join(', ')}`);
console.log(
  `  ${s.sketch_rows} sketch rows (ticket_sketches ${(s.sketch_bytes / 1e6).toFixed(0)} MB, all organizations): ` +
    byGrain.map((r) => `${r.grain}m ${r.rows}`).join(', '),
);
console.log(`load average at the end: ${load.map((x) => x.toFixed(2)).join(', ')}`);
