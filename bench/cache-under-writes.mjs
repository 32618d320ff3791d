/**
 * The cache while tickets are written: a read mix of historical queries
 * (ranges that end before this month) and live ones (ranges ending now, and
 * every dashboard: its current_backlog counts the open tickets now), from
 * closed-loop readers, while new tickets are written at 0, 5 and 50 per
 * second, in alternating rounds. Per phase: HIT ratio and p50/p95 of each
 * kind; the median over rounds of historical p95 under writes / without.
 * Then the Redis commands a cached read sends (counted with MONITOR on the
 * bench's own Redis, so nothing else is counted).
 *
 *   npm run build && BENCH_ORGS=1001 taskset -c 1 node bench/cache-under-writes.mjs
 *
 * BENCH_ORGS=<org> reads an organization seeded before (bench/seed.mjs, e.g.
 * 1,000,000 tickets over a year); without it one of BENCH_TICKETS (default
 * 1,000,000) is seeded first. The service runs on core BENCH_SERVICE_CPUS (0).
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createConnection } from 'node:net';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { seedTickets } from './seed.mjs';
import { quantile, startService } from './service.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PHASE_MS = Number(process.env.BENCH_PHASE_SECONDS ?? 12) * 1000;
const READERS = Number(process.env.BENCH_READERS ?? 8);
const RATES = (process.env.BENCH_RATES ?? '0,5,50').split(',').map(Number);
const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6391);

const config = loadConfig();
const org = Number(process.env.BENCH_ORGS?.split(',').at(-1) ?? randomInt(1, 2 ** 47));
if (!process.env.BENCH_ORGS) await seedTickets(config.databaseUrl, org, Number(process.env.BENCH_TICKETS ?? 1_000_000));

const redis = spawn('redis-server', ['--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no'], {
  stdio: 'ignore',
});
await new Promise((resolve) => setTimeout(resolve, 500));
const service = await startService(
  {
    REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}/0`,
    RATE_LIMIT_REQUESTS: '10000000',
    RATE_LIMIT_FORCED: '10000000',
  },
  { cpus: process.env.BENCH_SERVICE_CPUS ?? '0' },
);
const token = signToken({ sub: 'bench', org_id: org, role: 'admin' }, config.jwtSecret, 24 * 3600);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const DAY = 86_400_000;
const now = new Date();
const thisMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
const monthsBack = (n) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - n, 1);
const iso = (ms) => new Date(ms).toISOString();
const range = (s, e) => `start_date=${iso(s)}&end_date=${iso(e)}`;
const api = `${service.url}/api/v1/analytics`;

const HISTORICAL = [
  `${api}/time-series/ticket_count?${range(monthsBack(1), thisMonth)}&granularity=daily`,
  `${api}/time-series/response_time?${range(monthsBack(3), thisMonth)}&granularity=daily`,
  `${api}/time-series/ticket_count?${range(monthsBack(12), thisMonth)}&granularity=monthly`,
  `${api}/time-series/resolution_time?${range(monthsBack(2), thisMonth)}&granularity=weekly&timezone=Europe/Berlin`,
  `${api}/distribution/category?${range(monthsBack(1), thisMonth)}`,
  `${api}/performance?${range(monthsBack(1), thisMonth)}`,
].map((url) => ({ kind: 'historical', url }));
// Every dashboard is live, whatever its range: its current_backlog counts the open tickets now.
const LIVE = [
  `${api}/time-series/ticket_count?period=24h&granularity=hourly`,
  `${api}/dashboard?period=7d`,
  `${api}/dashboard?${range(monthsBack(1), thisMonth)}`,
  `${api}/distribution/status?period=30d`,
  `${api}/time-series/response_time?period=30d&granularity=daily`,
].map((url) => ({ kind: 'live', url }));
const MIX = [...HISTORICAL, ...LIVE];

async function read(query) {
  const started = performance.now();
  const response = await fetch(query.url, { headers });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${query.url} answered ${response.status}`);
  return { ms: performance.now() - started, cache: response.headers.get('x-cache') };
}

async function write() {
  const response = await fetch(`${service.url}/api/v1/tickets`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ priority: 'high', channel: 'chat', sentiment_score: 0.3 }),
  });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`POST /tickets answered ${response.status}`);
}

/** Readers in a closed loop over the mix for PHASE_MS, while tickets are written at `rate` per second. */
async function phase(rate) {
  const samples = { historical: [], live: [] };
  const stopAt = performance.now() + PHASE_MS;
  let writes = 0;
  const writer = (async () => {
    if (rate === 0) return;
    const started = performance.now();
    while (performance.now() < stopAt) {
      const due = started + (writes * 1000) / rate;
      if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      writes++;
      void write();
    }
  })();
  await Promise.all(
    Array.from({ length: READERS }, async (_, reader) => {
      for (let i = reader; performance.now() < stopAt; i++) {
        const query = MIX[i % MIX.length];
        samples[query.kind].push(await read(query));
      }
    }),
  );
  await writer;
  const summary = (list) => ({
    hit: list.filter((s) => s.cache === 'HIT').length / list.length,
    p50: quantile(
      list.map((s) => s.ms),
      0.5,
    ),
    p95: quantile(
      list.map((s) => s.ms),
      0.95,
    ),
    n: list.length,
  });
  return { rate, writes, historical: summary(samples.historical), live: summary(samples.live) };
}

// Warm every query once (the cold computations are not what this measures).
for (const query of MIX) await read(query);

const results = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const rate of RATES) {
    const r = await phase(rate);
    results.push({ round, ...r });
    const f = (s) =>
      `${(s.hit * 100).toFixed(1)}% HIT, p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms (${s.n})`;
    console.log(`round ${round + 1}, ${rate} writes/s (${r.writes}): historical ${f(r.historical)}; live ${f(r.live)}`);
  }
}

/** Top-level Redis commands (not those run inside a script) sent while `run` runs, from MONITOR. */
async function commandsDuring(run) {
  const monitor = createConnection(REDIS_PORT, '127.0.0.1');
  let text = '';
  monitor.on('data', (chunk) => (text += chunk));
  monitor.write('MONITOR\r\n');
  await new Promise((resolve) => setTimeout(resolve, 200));
  text = '';
  await run();
  await new Promise((resolve) => setTimeout(resolve, 200));
  monitor.destroy();
  return text.split('\n').filter((line) => /^\+\d+\.\d+ \[\d+ [\d.:]+\]/.test(line));
}
const REPEATS = 200;
const hotQuery = HISTORICAL[0];
await read(hotQuery);
const idle = await commandsDuring(() => new Promise((resolve) => setTimeout(resolve, 1000)));
const hot = await commandsDuring(async () => {
  for (let i = 0; i < REPEATS; i++) if ((await read(hotQuery)).cache !== 'HIT') throw new Error('not a HIT');
});
// A HIT through the whole pipeline: a URL not seen before (trailing '&'s), the same query, so the same entry.
const full = await commandsDuring(async () => {
  for (let i = 0; i < REPEATS; i++) {
    const r = await read({ url: `${hotQuery.url}${'&'.repeat(i + 1)}` });
    if (r.cache !== 'HIT') throw new Error(`not a HIT: ${r.cache}`);
  }
});

await service.stop();
redis.kill();

const byRate = (rate, kind, key) => results.filter((r) => r.rate === rate).map((r) => r[kind][key]);
const median = (values) => quantile(values, 0.5);
const spread = (values) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
console.log(`\n${ROUNDS} rounds of ${PHASE_MS / 1000} s per rate, ${READERS} readers, organization ${org}`);
for (const rate of RATES) {
  for (const kind of ['historical', 'live']) {
    const hits = byRate(rate, kind, 'hit').map((h) => h * 100);
    console.log(
      `${String(rate).padStart(2)} writes/s ${kind.padEnd(10)}: HIT ${median(hits).toFixed(1)}% (${spread(hits)}), ` +
        `p50 ${median(byRate(rate, kind, 'p50')).toFixed(1)} ms, p95 ${median(byRate(rate, kind, 'p95')).toFixed(1)} ms (${spread(byRate(rate, kind, 'p95'))})`,
    );
  }
}
for (const rate of RATES.filter((r) => r > 0)) {
  const ratios = results
    .filter((r) => r.rate === rate)
    .map((r) => r.historical.p95 / results.find((q) => q.round === r.round && q.rate === 0).historical.p95);
  console.log(
    `historical p95 at ${rate} writes/s / without writes: median ${median(ratios).toFixed(2)} (${spread(ratios)})`,
  );
}
const perRead = (lines) => (lines.length / REPEATS).toFixed(2);
console.log(
  `Redis commands per cached read (top level, MONITOR; ${idle.length} in 1 s idle): ` +
    `remembered URL ${perRead(hot)}, through the whole pipeline ${perRead(full)}`,
);
