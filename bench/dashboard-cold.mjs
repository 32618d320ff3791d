/**
 * Cold latency of the dashboard over 30 days for an organization with
 * 1,000,000 tickets (BENCH_TICKETS to change), computed from PostgreSQL on
 * every request (use_cache=false, so each one is a full computation).
 *
 *   npm run bench:dashboard     (builds, then uses DATABASE_URL / REDIS_URL from .env)
 */
import { randomInt } from 'node:crypto';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { seedTickets } from './seed.mjs';
import { quantile, startService } from './service.mjs';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);

const config = loadConfig();
const organizationId = randomInt(1, 2 ** 47);
const loadStarted = performance.now();
await seedTickets(config.databaseUrl, organizationId, TICKETS);
const loadSeconds = (performance.now() - loadStarted) / 1000;

const service = await startService();
const headers = { authorization: `Bearer ${signToken({ sub: 'bench', org_id: organizationId, role: 'admin' }, config.jwtSecret, 3600)}` };
const times = [];
let body;
for (let i = 0; i < SAMPLES; i++) {
  const started = performance.now();
  const response = await fetch(`${service.url}/api/v1/analytics/dashboard?period=30d&use_cache=false`, { headers });
  body = await response.json();
  times.push(performance.now() - started);
  if (response.status !== 200) throw new Error(`dashboard answered ${response.status}: ${JSON.stringify(body)}`);
}
service.stop();

console.log(`seeded ${TICKETS} tickets over a year in ${loadSeconds.toFixed(1)} s (COPY)`);
console.log(`30-day dashboard: ${body.total_tickets} tickets in range, backlog ${body.current_backlog}`);
console.log(`cold dashboard (use_cache=false) median ${quantile(times, 0.5).toFixed(1)} ms, p95 ${quantile(times, 0.95).toFixed(1)} ms (${SAMPLES} requests)`);
