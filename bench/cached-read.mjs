/**
 * A cached read against the floor, side by side: Pulse serving a HIT of a
 * 30-day daily series, and bench/bare-server.mjs sending the same stored
 * bytes from the same Redis. Both run on core 0 (BENCH_SERVER_CPUS), the
 * load generators on core 1 (BENCH_CLIENT_CPUS); rounds alternate Pulse,
 * bare, Pulse, bare….
 *
 *   npm run build && node bench/cached-read.mjs        (DATABASE_URL, REDIS_URL, JWT_SECRET as for the service)
 *
 * 1. Throughput: wrk2 -c50 at an unreachable rate for BENCH_SECONDS (10) per
 *    run, BENCH_ROUNDS (5) rounds; the median of the per-round ratios
 *    Pulse / bare, with the spread.
 * 2. Latency at a steady rate of half Pulse's median throughput: p99 of
 *    each from wrk2 (open loop, corrected for coordinated omission),
 *    alternating.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { startService } from './service.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SERVER_CPUS = process.env.BENCH_SERVER_CPUS ?? '0';
const CLIENT_CPUS = process.env.BENCH_CLIENT_CPUS ?? '1';
const config = loadConfig();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const pulse = await startService({ RATE_LIMIT_REQUESTS: '10000000', LOG_LEVEL: 'warn' }, { cpus: SERVER_CPUS });
const organizationId = randomInt(1, 2 ** 47);
const authorization = `Bearer ${signToken({ sub: 'bench', org_id: organizationId, role: 'admin' }, config.jwtSecret, 3600)}`;
const now = Date.now();
const tickets = Array.from({ length: 2000 }, (_, i) => ({
  created_at: new Date(now - ((i * 7919) % (29 * 86_400_000)) - 60_000).toISOString(),
}));
const loaded = await fetch(`${pulse.url}/api/v1/tickets/bulk`, {
  method: 'POST',
  headers: { authorization, 'content-type': 'application/json' },
  body: JSON.stringify({ tickets }),
});
if (loaded.status !== 200) throw new Error(`bulk load: ${loaded.status}`);
const path = '/api/v1/analytics/time-series/ticket_count?period=30d&granularity=daily';
for (const expected of ['MISS', 'HIT']) {
  const r = await fetch(`${pulse.url}${path}`, { headers: { authorization } });
  await r.arrayBuffer();
  if (r.headers.get('x-cache') !== expected) throw new Error(`expected ${expected}, got ${r.headers.get('x-cache')}`);
}

const redis = new Redis(config.redisUrl);
const [key] = await redis.keys(`${config.redisKeyPrefix}:{o${organizationId}}:res:time-series:*`);
const bytes = (await redis.get(key)).length;
redis.disconnect();
const barePort = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const bare = spawn('taskset', ['-c', SERVER_CPUS, process.execPath, 'bench/bare-server.mjs'], {
  env: { ...process.env, PORT: String(barePort), BARE_REDIS_URL: config.redisUrl, BARE_KEY: key },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve) => bare.stdout.once('data', resolve));
const targets = { pulse: `${pulse.url}${path}`, bare: `http://127.0.0.1:${barePort}${path}` };

/**
 * wrk2 (https://github.com/giltene/wrk2: `make`, then put its `wrk` on the
 * PATH as `wrk2`): an open-loop generator in C. With a rate far above what the
 * server can do it measures throughput; at a given rate it measures latency
 * corrected for coordinated omission, after its 10 s calibration.
 */
function wrk2(url, rate, seconds) {
  const out = execFileSync(
    'taskset',
    [
      '-c',
      CLIENT_CPUS,
      'wrk2',
      '-t1',
      '-c50',
      `-d${seconds}s`,
      `-R${rate}`,
      '-L',
      '-H',
      `Authorization: ${authorization}`,
      url,
    ],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`${non2xx} non-2xx responses from ${url}`);
  const ms = (text) => {
    const [, value, unit] = /([\d.]+)(us|ms|s)/.exec(text);
    return Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
    p99: ms(/^\s*99\.000%\s+(\S+)/m.exec(out)[1]),
  };
}
const wrk = (url) => wrk2(url, 1_000_000, SECONDS).rps;
const steady = (url, rate) => wrk2(url, rate, SECONDS + 20);

const rounds = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const p = wrk(targets.pulse);
  const b = wrk(targets.bare);
  rounds.push({ pulse: p, bare: b, ratio: p / b });
  console.log(
    `round ${round + 1}: pulse ${p.toFixed(0)} req/s, bare ${b.toFixed(0)} req/s, ratio ${(p / b).toFixed(3)}`,
  );
}
const ratios = rounds.map((r) => r.ratio);
const rate = Math.round(median(rounds.map((r) => r.pulse)) / 2);
const latency = [];
for (let round = 0; round < Math.max(3, Math.ceil(ROUNDS / 2)); round += 1) {
  const p = steady(targets.pulse, rate);
  const b = steady(targets.bare, rate);
  latency.push({ pulse: p, bare: b, ratio: p.p99 / b.p99 });
  console.log(
    `steady ${rate} req/s: pulse p99 ${p.p99.toFixed(2)} ms (${p.rps.toFixed(0)} req/s), bare p99 ${b.p99.toFixed(2)} ms, ratio ${(p.p99 / b.p99).toFixed(2)}`,
  );
}
console.log(`cached GET of a 30-day daily series (${bytes} bytes stored), wrk2 -c50, ${ROUNDS} alternating rounds:`);
console.log(
  `  throughput Pulse / bare: median ratio ${median(ratios).toFixed(3)} (spread ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); ` +
    `Pulse median ${median(rounds.map((r) => r.pulse)).toFixed(0)} req/s, bare ${median(rounds.map((r) => r.bare)).toFixed(0)} req/s`,
);
const p99Ratios = latency.map((l) => l.ratio);
console.log(
  `  p99 at ${rate} req/s (half Pulse's throughput): median ratio Pulse / bare ${median(p99Ratios).toFixed(2)} ` +
    `(spread ${Math.min(...p99Ratios).toFixed(2)}–${Math.max(...p99Ratios).toFixed(2)}); ` +
    `Pulse ${median(latency.map((l) => l.pulse.p99)).toFixed(2)} ms, bare ${median(latency.map((l) => l.bare.p99)).toFixed(2)} ms`,
);
bare.kill();
await pulse.stop();
