#!/usr/bin/env node
/**
 * What maintaining rollups and sketches in a write's transaction costs a
 * single `POST /tickets`: this build against another checkout's build (the
 * commit before rollups), each on a database migrated by its own build, both
 * services pinned to the same core, in alternating rounds of sequential
 * writes. Prints each round's p50/p99 for both and the median of the
 * per-round p50 differences and ratios, with their spread.
 *
 *   git worktree add --detach ../pulse-before 67bef43^ && (cd ../pulse-before && npm ci && npm run build)
 *   createdb pulse_before && (cd ../pulse-before && DATABASE_URL=postgres:///pulse_before npm run migration:run:prod)
 *   npm run build && BENCH_BASE_DIR=../pulse-before BENCH_BASE_DATABASE_URL=postgres:///pulse_before \
 *     BENCH_SERVICE_CPUS=0 taskset -c 1 node bench/write-cost.mjs
 *
 * BENCH_ROUNDS (default 7) and BENCH_WRITES (per round and build, default 200).
 */
import { randomInt } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { signToken } from '../dist/src/auth/token.service.js';
import { loadConfig } from '../dist/src/config/app-config.js';
import { quantile, startService } from './service.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const WRITES = Number(process.env.BENCH_WRITES ?? 200);
const baseDir = process.env.BENCH_BASE_DIR;
const baseDatabaseUrl = process.env.BENCH_BASE_DATABASE_URL;
if (!baseDir || !baseDatabaseUrl) {
  console.error(
    'BENCH_BASE_DIR (a built checkout to compare with) and BENCH_BASE_DATABASE_URL (its database) are required',
  );
  process.exit(2);
}

const config = loadConfig();
const cpus = process.env.BENCH_SERVICE_CPUS;
const common = { RATE_LIMIT_REQUESTS: '1000000', NODE_ENV: 'production' };
// Each build on its own database and Redis database: neither sees the other's tickets or cache.
const services = {
  now: await startService({ ...common, REDIS_URL: redisDb(config.redisUrl, 13) }, { cpus }),
  before: await startService(
    { ...common, DATABASE_URL: baseDatabaseUrl, REDIS_URL: redisDb(config.redisUrl, 14) },
    { cpus, cwd: resolve(baseDir) },
  ),
};
const org = randomInt(1, 2 ** 47);
const headers = {
  authorization: `Bearer ${signToken({ sub: 'bench', org_id: org, role: 'admin' }, config.jwtSecret, 3600)}`,
  'content-type': 'application/json',
};

async function writes(service, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(`${service.url}/api/v1/tickets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        priority: ['low', 'high'][i % 2],
        channel: 'chat',
        category: 'billing',
        sentiment_score: 0.3,
      }),
    });
    await response.arrayBuffer();
    if (response.status !== 201) throw new Error(`POST /tickets answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

const rounds = [];
try {
  for (const service of Object.values(services)) await writes(service, 50);
  for (let round = 0; round < ROUNDS; round++) {
    const now = await writes(services.now, WRITES);
    const before = await writes(services.before, WRITES);
    const figures = {
      now: { p50: quantile(now, 0.5), p99: quantile(now, 0.99) },
      before: { p50: quantile(before, 0.5), p99: quantile(before, 0.99) },
      load: loadavg()[0],
    };
    rounds.push(figures);
    console.log(
      `round ${round + 1}: with rollups p50 ${figures.now.p50.toFixed(2)} ms, p99 ${figures.now.p99.toFixed(2)} ms; ` +
        `before p50 ${figures.before.p50.toFixed(2)} ms, p99 ${figures.before.p99.toFixed(2)} ms; load average ${figures.load.toFixed(1)}`,
    );
  }
} finally {
  await Promise.all(Object.values(services).map((service) => service.stop()));
}

const spread = (values, digits) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${quantile(sorted, 0.5).toFixed(digits)} (${sorted[0].toFixed(digits)}–${sorted.at(-1).toFixed(digits)})`;
};
console.log(
  `${ROUNDS} rounds × ${WRITES} sequential POST /tickets each: p50 difference (with rollups − before) ` +
    `${spread(
      rounds.map((r) => r.now.p50 - r.before.p50),
      2,
    )} ms, p50 ratio ${spread(
      rounds.map((r) => r.now.p50 / r.before.p50),
      3,
    )}; ` +
    `p99 difference ${spread(
      rounds.map((r) => r.now.p99 - r.before.p99),
      2,
    )} ms; ` +
    `p50 with rollups ${spread(
      rounds.map((r) => r.now.p50),
      2,
    )} ms, before ${spread(
      rounds.map((r) => r.before.p50),
      2,
    )} ms`,
);

function redisDb(url, db) {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}
