/**
 * Bulk ingest side by side with COPY: the same rows, BENCH_BATCHES batches
 * of 10,000 tickets, sent through POST /tickets/bulk (validated, each batch
 * one transaction with its rollups, invalidation record and events) into one
 * organization, and written with COPY FROM STDIN into another, one
 * transaction a batch; rounds alternate API, COPY, API, COPY… and the figure
 * is the median of the rounds' ratios. The service runs on core 0
 * (BENCH_SERVER_CPUS), this script on another; BENCH_NODE_ARGS go to the
 * service's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
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
import { startService } from './service.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 5);
const BATCH = 10_000;
const config = loadConfig();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const service = await startService(
  { RATE_LIMIT_REQUESTS: '10000000' },
  { cpus: process.env.BENCH_SERVER_CPUS ?? '0', nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) },
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

async function viaApi(round) {
  const organizationId = randomInt(1, 2 ** 47);
  const headers = {
    authorization: `Bearer ${signToken({ sub: 'bench', org_id: organizationId, role: 'agent' }, config.jwtSecret, 3600)}`,
    'content-type': 'application/json',
  };
  const bodies = Array.from({ length: BATCHES }, (_, b) => JSON.stringify({ tickets: batch(round, b) }));
  const started = performance.now();
  for (const body of bodies) {
    const r = await fetch(`${service.url}/api/v1/tickets/bulk`, { method: 'POST', headers, body });
    if (r.status !== 200) throw new Error(`bulk: ${r.status} ${await r.text()}`);
  }
  return (BATCHES * BATCH) / ((performance.now() - started) / 1000);
}

async function viaCopy(round) {
  const organizationId = randomInt(1, 2 ** 47);
  const csv = (v) => (v === null ? '' : String(v));
  const lines = Array.from(
    { length: BATCHES },
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
  const rate = (BATCHES * BATCH) / ((performance.now() - started) / 1000);
  // COPY kept no rollups: its rows go, untimed, so `npm run rollups:verify` checks what the API wrote.
  await db.query('DELETE FROM tickets WHERE organization_id = $1', [organizationId]);
  return rate;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`load average at start: ${load()}`);
const ratios = [];
const rates = { api: [], copy: [] };
for (let round = 0; round < ROUNDS; round += 1) {
  const api = await viaApi(round);
  const copy = await viaCopy(round);
  ratios.push(api / copy);
  rates.api.push(api);
  rates.copy.push(copy);
  console.log(
    `round ${round + 1}: API ${api.toFixed(0)} tickets/s, COPY ${copy.toFixed(0)} tickets/s, ratio ${(api / copy).toFixed(3)}`,
  );
}
console.log(
  `bulk ingest, ${ROUNDS} rounds of ${BATCHES} batches x ${BATCH} tickets: ` +
    `API median ${median(rates.api).toFixed(0)} tickets/s, COPY median ${median(rates.copy).toFixed(0)} tickets/s; ` +
    `API / COPY median ratio ${median(ratios).toFixed(3)} ` +
    `(spread ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); load average at end: ${load()}`,
);
await db.end();
await service.stop();
