/**
 * Bulk ingest side by side with COPY: the same rows, BENCH_BATCHES batches
 * of 10,000 tickets, sent through POST /tickets/bulk (validated, each batch
 * one transaction with its rollups, invalidation record and events) into one
 * organization, and written with COPY FROM STDIN into another, one
 * transaction a batch; rounds alternate API, COPY, API, COPY… and the figure
 * is the median of the rounds' ratios. Each round also sends its batches
 * through the API by BENCH_PARALLEL (default 2) clients at once, as an
 * ingester sending in parallel would, against the same round's COPY. The
 * service runs on core 0 (BENCH_SERVER_CPUS), this script on another;
 * BENCH_NODE_ARGS go to the service's node (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof`).
 *
 *   npm run build && taskset -c 1 node bench/bulk-ingest.mjs     (DATABASE_URL, REDIS_URL, JWT_SECRET as for the service)
 */
import { randomInt, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { processCpu, startService } from './service.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 5);
const BATCH = 10_000;
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 2);
const config = loadConfig();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const service = await startService(
  { RATE_LIMIT_REQUESTS: '10000000' },
  {
    cpus: process.env.BENCH_SERVER_CPUS ?? '0',
    nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  },
);
const db = new pg.Client({ connectionString: config.databaseUrl });
await db.connect();

const now = Date.now();
function batch(round, b) {
  return Array.from({ length: BATCH }, (_, i) => {
    const created = now - ((round * BATCHES + b) * BATCH + i) * 1000;
    return {
      external_id: `bulk-${round}-${b}-${i}`,
      status: i % 3 === 0 ? 'resolved' : 'open',
      priority: ['low', 'medium', 'high', 'urgent'][i % 4],
      channel: ['email', 'chat', 'web'][i % 3],
      category: ['billing', 'technical'][i % 2],
      assignee_id: `agent-${i % 20}`,
      sentiment_score: ((i % 200) - 100) / 100,
      created_at: new Date(created).toISOString(),
      first_response_at: new Date(created + 600_000).toISOString(),
      resolved_at: i % 3 === 0 ? new Date(created + 7_200_000).toISOString() : null,
    };
  });
}

/**
 * The service's CPU time so far (user and system, ms), from /proc: per batch it is a figure that
 * other work on the machine changes much less than the wall-clock rates.
 */
const serviceCpuMs = () => processCpu(service.pid).cpuMs;
const cpuPerBatch = { api: [], parallel: [] };

/**
 * The round's batches through the API by `senders` clients at once, each sending its next batch when
 * answered; the service's CPU per batch goes to cpuPerBatch[mode] (none for the warm-up).
 */
async function viaApi(round, senders, mode, batches = BATCHES) {
  const organizationId = randomInt(1, 2 ** 47);
  const headers = {
    authorization: `Bearer ${signToken({ sub: 'bench', org_id: organizationId, role: 'agent' }, config.jwtSecret, 3600)}`,
    'content-type': 'application/json',
  };
  // Each mode writes its own rows (external ids are per organization, but kept apart all the same).
  const bodies = Array.from({ length: batches }, (_, b) =>
    JSON.stringify({ tickets: batch(round, b).map((t) => ({ ...t, external_id: `${t.external_id}-${senders}` })) }),
  );
  let next = 0;
  const send = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const r = await fetch(`${service.url}/api/v1/tickets/bulk`, { method: 'POST', headers, body });
      if (r.status !== 200) throw new Error(`bulk: ${r.status} ${await r.text()}`);
    }
  };
  const [started, cpu] = [performance.now(), serviceCpuMs()];
  await Promise.all(Array.from({ length: senders }, send));
  const elapsed = performance.now() - started;
  if (mode) cpuPerBatch[mode].push((serviceCpuMs() - cpu) / batches);
  return (batches * BATCH) / (elapsed / 1000);
}

async function viaCopy(round, batches = BATCHES) {
  const organizationId = randomInt(1, 2 ** 47);
  const csv = (v) => (v === null ? '' : String(v));
  const lines = Array.from(
    { length: batches },
    (_, b) =>
      batch(round, b)
        .map((t) =>
          [
            organizationId,
            randomUUID(),
            t.external_id,
            t.status,
            t.priority,
            t.channel,
            t.category,
            t.assignee_id,
            t.sentiment_score,
            t.created_at,
            t.first_response_at,
            csv(t.resolved_at),
            new Date(now).toISOString(),
          ].join(','),
        )
        .join('\n') + '\n',
  );
  const started = performance.now();
  for (const text of lines) {
    await db.query('BEGIN');
    const copy = db.query(
      copyStreams.from(`COPY tickets (organization_id, id, external_id, status, priority, channel, category, assignee_id,
        sentiment_score, created_at, first_response_at, resolved_at, updated_at) FROM STDIN WITH (FORMAT csv)`),
    );
    await pipeline(Readable.from([text]), copy);
    await db.query('COMMIT');
  }
  const rate = (batches * BATCH) / ((performance.now() - started) / 1000);
  // COPY kept no rollups: its rows go, untimed, so `npm run rollups:verify` checks what the API wrote.
  await db.query('DELETE FROM tickets WHERE organization_id = $1', [organizationId]);
  return rate;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const spread = (values) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`;
// One untimed batch each way first: the service's code is compiled by the time the rounds start, as in a
// service that has been running for a while.
await viaApi(ROUNDS, 1, null, 1);
await viaCopy(ROUNDS, 1);
console.log(`load average at start: ${load()}`);
const rates = { api: [], copy: [], parallel: [] };
const ratios = { api: [], parallel: [] };
for (let round = 0; round < ROUNDS; round += 1) {
  const api = await viaApi(round, 1, 'api');
  const copy = await viaCopy(round);
  const parallel = await viaApi(round, PARALLEL, 'parallel');
  rates.api.push(api);
  rates.copy.push(copy);
  rates.parallel.push(parallel);
  ratios.api.push(api / copy);
  ratios.parallel.push(parallel / copy);
  console.log(
    `round ${round + 1}: API ${api.toFixed(0)} tickets/s, COPY ${copy.toFixed(0)} rows/s, ratio ${(api / copy).toFixed(3)}; ` +
      `API with ${PARALLEL} requests at once ${parallel.toFixed(0)} tickets/s, ratio ${(parallel / copy).toFixed(3)}; ` +
      `load average ${load()}`,
  );
}
console.log(
  `bulk ingest, ${ROUNDS} rounds of ${BATCHES} batches x ${BATCH} tickets: ` +
    `API median ${median(rates.api).toFixed(0)} tickets/s, COPY median ${median(rates.copy).toFixed(0)} rows/s; ` +
    `API / COPY median ratio ${median(ratios.api).toFixed(3)} (spread ${spread(ratios.api)}); ` +
    `${PARALLEL} requests at once: median ${median(rates.parallel).toFixed(0)} tickets/s, ` +
    `ratio ${median(ratios.parallel).toFixed(3)} (spread ${spread(ratios.parallel)}); ` +
    `service CPU per batch median ${median(cpuPerBatch.api).toFixed(0)} ms ` +
    `(${median(cpuPerBatch.parallel).toFixed(0)} ms with ${PARALLEL} at once); load average at end: ${load()}`,
);
await db.end();
await service.stop();
