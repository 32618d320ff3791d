/**
 * Pulse scaled out on one machine: three instances behind nginx running
 * deploy/nginx.conf, against one instance reached directly, in the same run.
 *
 * 1. fanout: write → metric_update at the last of BENCH_SOCKETS (1,000)
 *    websockets. Side A: the sockets connect through nginx, which spreads
 *    them over the three instances, and each `POST /tickets` goes through
 *    nginx too (so to any instance); side B: as many sockets and the writes
 *    on one instance, directly. Timed from sending the write to the update's
 *    arrival at the first and at the last socket; writes BENCH_PACE_MS (300)
 *    apart, past the 250 ms in which a room's updates are summed, so each is
 *    sent at once. BENCH_ROUNDS (5) alternating rounds of BENCH_WRITES (40).
 * 2. reads: cached `GET` of a 30-day daily series (a HIT) per second, wrk
 *    -t1 -c50 for BENCH_SECONDS (10) a run: through nginx over the three
 *    instances (A) against one instance directly (B), BENCH_ROUNDS
 *    alternating rounds; median of the per-round ratios A / B with the spread.
 *    Two more sides tell the parts apart: nginx in front of that one
 *    instance alone (what the proxy costs), and the three instances without
 *    nginx, the 50 connections split over them by three wrk processes (what
 *    three processes sharing the servers' cpus cost).
 *
 * The instances and nginx run on BENCH_SERVER_CPUS (0), wrk on
 * BENCH_CLIENT_CPUS (1); run the script itself (the sockets and the writer)
 * there too:
 *
 *   npm run build && taskset -c 1 node bench/load-balancer.mjs
 *
 * (DATABASE_URL, REDIS_URL, JWT_SECRET from the environment or .env; nginx
 * and wrk installed: Debian `apt-get install nginx wrk`.)
 * BENCH_ONLY=fanout|reads runs one part. BENCH_PORT (7200): nginx listens
 * there, the instances on the next three ports; for the reads, a second
 * nginx on the port after them.
 */
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { inBatches, subscribedSocket } from './sockets.mjs';
import { loadConfig } from '../dist/src/config/app-config.js';
import { signToken } from '../dist/src/auth/token.service.js';
import { startNginx } from './nginx.mjs';
import { processCpu, quantile, startService } from './service.mjs';

const ONLY = process.env.BENCH_ONLY;
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRITES = Number(process.env.BENCH_WRITES ?? 40);
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 300);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SERVER_CPUS = process.env.BENCH_SERVER_CPUS ?? '0';
const CLIENT_CPUS = process.env.BENCH_CLIENT_CPUS ?? '1';
const PORT = Number(process.env.BENCH_PORT ?? 7200);
const SUBSCRIPTION = { metrics: ['ticket_count'], window: '1h', interval: 3600 };

const config = loadConfig();
const run = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const median = (values) => quantile(values, 0.5);
const spread = (values) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`;
const token = (organizationId, role, sub) => signToken({ sub, org_id: organizationId, role }, config.jwtSecret, 3600);

const env = { LOG_LEVEL: 'error', RATE_LIMIT_REQUESTS: '10000000', TRUST_PROXY: 'loopback' };
const instances = await Promise.all([1, 2, 3].map((i) => startService(env, { cpus: SERVER_CPUS, port: PORT + i })));
// Also when the bench fails: nothing it started outlives it.
process.once('exit', () => {
  for (const s of instances) if (s.ended === null) void s.stop();
});
const nginx = await startNginx({
  upstreams: instances.map((s) => new URL(s.url).host),
  port: PORT,
  cpus: SERVER_CPUS,
});
const direct = instances[0];
console.log(`three instances and nginx on cpus ${SERVER_CPUS}; load average at start ${loadAverage()}`);

try {
  if (ONLY !== 'reads') await fanout();
  if (ONLY !== 'fanout') await reads();
} finally {
  await nginx.stop();
  await Promise.all(instances.map((s) => s.stop()));
}
process.exit(0);

/** CPU time (user + system, ms, from /proc) of the processes whose process group is `group`, or of `pids`. */
function cpuMs({ pids = [], group }) {
  let total = 0;
  for (const entry of group === undefined ? pids.map(String) : readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let stat;
    try {
      stat = processCpu(entry);
    } catch {
      continue; // gone meanwhile
    }
    if (group !== undefined && stat.group !== group) continue;
    total += stat.cpuMs;
  }
  return total;
}
function serverCpuMs() {
  return { instances: cpuMs({ pids: instances.map((s) => s.pid) }), nginx: cpuMs({ group: nginx.pid }) };
}

async function socketsPerInstance() {
  const counts = [];
  for (const s of instances) {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    counts.push(Number(/^pulse_socket_connections (\d+)/m.exec(text)?.[1] ?? 0));
  }
  return counts;
}

async function fanout() {
  // Per ticket id: how many sockets got its update, when the first and the last did; who waits for the last.
  const arrivals = new Map();
  const complete = new Map();
  const allArrived = (id) =>
    (arrivals.get(id)?.count ?? 0) >= SOCKETS
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(resolve, 5000);
          complete.set(id, () => {
            clearTimeout(timer);
            resolve();
          });
        });
  const sockets = [];
  async function connect(baseUrl, organizationId, prefix) {
    await inBatches(
      Array.from({ length: SOCKETS }, (_, i) => i),
      async (i) => {
        const socket = await subscribedSocket(baseUrl, token(organizationId, 'viewer', `${prefix}-${i}`), SUBSCRIPTION);
        sockets.push(socket);
        socket.on('metric_update', (update) => {
          const at = performance.now();
          let seen = arrivals.get(update.ticket_id);
          if (seen) {
            seen.count += 1;
            seen.last = at;
          } else arrivals.set(update.ticket_id, (seen = { count: 1, first: at, last: at }));
          if (seen.count === SOCKETS) complete.get(update.ticket_id)?.();
        });
      },
    );
  }
  const sides = {
    nginx: { organizationId: randomInt(1, 2 ** 47), url: nginx.url, latencies: { answer: [], first: [], last: [] } },
    direct: { organizationId: randomInt(1, 2 ** 47), url: direct.url, latencies: { answer: [], first: [], last: [] } },
  };
  await connect(nginx.url, sides.nginx.organizationId, 'lb');
  const spreadOver = await socketsPerInstance();
  await connect(direct.url, sides.direct.organizationId, 'direct');
  console.log(
    `${SOCKETS} sockets through nginx, per instance: ${spreadOver.join(' / ')}; ${SOCKETS} more on the first directly`,
  );

  let lost = 0;
  async function writes(side, count, record) {
    const authorization = `Bearer ${token(side.organizationId, 'agent', 'writer')}`;
    const round = { answer: [], first: [], last: [] };
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      const response = await fetch(`${side.url}/api/v1/tickets`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ created_at: new Date().toISOString() }),
      });
      if (response.status !== 201) throw new Error(`POST /tickets: ${response.status}`);
      const answered = performance.now();
      const { id } = await response.json();
      await allArrived(id);
      const seen = arrivals.get(id);
      arrivals.delete(id);
      complete.delete(id);
      if (!seen || seen.count < SOCKETS) lost += 1;
      else if (record) {
        round.answer.push(answered - started);
        round.first.push(seen.first - started);
        round.last.push(seen.last - started);
      }
      await sleep(Math.max(0, PACE_MS - (performance.now() - started)));
    }
    for (const key of ['answer', 'first', 'last']) side.latencies[key].push(...round[key]);
    return round;
  }
  // Warm-up: pools, generations, the instances' JIT.
  await writes(sides.nginx, 10, false);
  await writes(sides.direct, 10, false);
  const ratios = [];
  const loads = [loadAverage()];
  // CPU per side: the instances, nginx (master and workers), this process (the sockets and the writer).
  const cpu = Object.fromEntries(Object.keys(sides).map((name) => [name, { instances: 0, nginx: 0, client: 0 }]));
  for (let r = 0; r < ROUNDS; r += 1) {
    const order = r % 2 === 0 ? ['nginx', 'direct'] : ['direct', 'nginx'];
    const rounds = {};
    for (const name of order) {
      const [server, client] = [serverCpuMs(), process.cpuUsage()];
      rounds[name] = await writes(sides[name], WRITES, true);
      const [serverAfter, clientUsed] = [serverCpuMs(), process.cpuUsage(client)];
      cpu[name].instances += serverAfter.instances - server.instances;
      cpu[name].nginx += serverAfter.nginx - server.nginx;
      cpu[name].client += (clientUsed.user + clientUsed.system) / 1000;
    }
    ratios.push(median(rounds.nginx.last) / median(rounds.direct.last));
    console.log(
      `round ${r + 1}: last socket p50 ${median(rounds.nginx.last).toFixed(1)} ms through nginx (3 instances), ` +
        `${median(rounds.direct.last).toFixed(1)} ms on one instance directly: ${ratios.at(-1).toFixed(3)}×`,
    );
  }
  loads.push(loadAverage());
  for (const s of sockets) s.disconnect();
  const ms = (values, q) => `${quantile(values, q).toFixed(1)} ms`;
  console.log(
    `write → metric_update, ${SOCKETS} subscribed sockets, ${ROUNDS} alternating rounds × ${WRITES} writes ${PACE_MS} ms apart; load average ${loads.join(' → ')}:`,
  );
  for (const [name, label] of [
    ['nginx', 'through nginx, sockets on 3 instances'],
    ['direct', 'one instance directly          '],
  ]) {
    const { answer, first, last } = sides[name].latencies;
    const perWrite = (key) => `${(cpu[name][key] / (ROUNDS * WRITES)).toFixed(1)} ms`;
    console.log(
      `  ${label}: last socket p50 ${ms(last, 0.5)}, p99 ${ms(last, 0.99)}, max ${ms(last, 1)}; ` +
        `first socket p50 ${ms(first, 0.5)}; the write's answer p50 ${ms(answer, 0.5)}; CPU a write: ` +
        `instances ${perWrite('instances')}, nginx ${perWrite('nginx')}, sockets and writer ${perWrite('client')}`,
    );
  }
  console.log(
    `  median of per-round p50 ratios (nginx / direct) ${median(ratios).toFixed(3)}× (${spread(ratios)}×); writes whose update missed a socket within 5 s: ${lost}`,
  );
}

/**
 * Requests per second from Debian's wrk (closed loop, one thread) on the
 * client cpus: 50 connections to one URL, or split over several URLs (one
 * wrk each, at once); fails on any non-2xx answer.
 */
async function wrk(urls, authorization, seconds = SECONDS) {
  const list = [urls].flat();
  const outs = await Promise.all(
    list.map((url, i) =>
      run(
        'taskset',
        [
          '-c',
          CLIENT_CPUS,
          'wrk',
          '-t1',
          `-c${Math.floor(50 / list.length) + (i < 50 % list.length ? 1 : 0)}`,
          `-d${seconds}s`,
          '-H',
          `Authorization: ${authorization}`,
          url,
        ],
        { encoding: 'utf8' },
      ).then(({ stdout }) => stdout),
    ),
  );
  let total = 0;
  for (const [i, out] of outs.entries()) {
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    if (non2xx > 0) throw new Error(`${non2xx} non-2xx responses from ${list[i]}:\n${out}`);
    total += Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  }
  return total;
}

async function reads() {
  const organizationId = randomInt(1, 2 ** 47);
  const authorization = `Bearer ${token(organizationId, 'admin', 'bench')}`;
  const now = Date.now();
  const tickets = Array.from({ length: 2000 }, (_, i) => ({
    created_at: new Date(now - ((i * 7919) % (29 * 86_400_000)) - 60_000).toISOString(),
  }));
  const loaded = await fetch(`${nginx.url}/api/v1/tickets/bulk`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ tickets }),
  });
  if (loaded.status !== 200) throw new Error(`bulk load: ${loaded.status}`);
  const path = '/api/v1/analytics/time-series/ticket_count?period=30d&granularity=daily';
  // Computed once, then a HIT on every instance and through nginx.
  for (const base of [...instances.map((s) => s.url), nginx.url, nginx.url, nginx.url]) {
    for (let i = 0; i < 3; i += 1) await (await fetch(`${base}${path}`, { headers: { authorization } })).arrayBuffer();
    const r = await fetch(`${base}${path}`, { headers: { authorization } });
    await r.arrayBuffer();
    if (r.headers.get('x-cache') !== 'HIT') throw new Error(`${base}: expected a HIT, got ${r.headers.get('x-cache')}`);
  }
  // What nginx itself costs: the same config in front of the first instance alone.
  const single = await startNginx({ upstreams: [new URL(direct.url).host], port: PORT + 4, cpus: SERVER_CPUS });
  const targets = {
    nginx: `${nginx.url}${path}`,
    direct: `${direct.url}${path}`,
    single: `${single.url}${path}`,
    // The three instances without nginx: the load split over them by the client.
    split: instances.map((s) => `${s.url}${path}`),
  };
  const rounds = [];
  const loads = [loadAverage()];
  const cpuUse = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  try {
    // Each path warmed under load first (JIT, connection pools), untimed.
    for (const url of Object.values(targets)) await wrk(url, authorization, 3);
    for (let r = 0; r < ROUNDS; r += 1) {
      const order = ['nginx', 'direct', 'single', 'split'];
      if (r % 2 === 1) order.reverse();
      const round = {};
      const used = {};
      for (const name of order) {
        // The CPU the servers' side spent (the instances and both nginx), per request and as a share of the run.
        const serverCpu = () => {
          const { instances: ms, nginx: proxy } = serverCpuMs();
          return ms + proxy + cpuMs({ group: single.pid });
        };
        const before = serverCpu();
        round[name] = await wrk(targets[name], authorization);
        const ms = serverCpu() - before;
        used[name] = { perRequest: ms / (round[name] * SECONDS), share: ms / (SECONDS * 1000) };
        cpuUse[name].push(used[name]);
      }
      rounds.push({
        ...round,
        ratio: round.nginx / round.direct,
        singleRatio: round.single / round.direct,
        splitRatio: round.split / round.direct,
      });
      console.log(
        `round ${r + 1}: ${round.nginx.toFixed(0)} req/s through nginx (3 instances), ${round.direct.toFixed(0)} req/s ` +
          `on one instance directly: ${rounds.at(-1).ratio.toFixed(3)}×; nginx in front of that one instance alone ` +
          `${round.single.toFixed(0)} req/s: ${rounds.at(-1).singleRatio.toFixed(3)}×; the three without nginx ` +
          `${round.split.toFixed(0)} req/s: ${rounds.at(-1).splitRatio.toFixed(3)}×`,
      );
    }
  } finally {
    await single.stop();
  }
  loads.push(loadAverage());
  const ratios = rounds.map((r) => r.ratio);
  const singleRatios = rounds.map((r) => r.singleRatio);
  const med = (name) => median(rounds.map((r) => r[name])).toFixed(0);
  console.log(
    `cached GET, wrk -t1 -c50, ${ROUNDS} alternating rounds of ${SECONDS} s; load average ${loads.join(' → ')}:`,
  );
  console.log(
    `  through nginx, 3 instances: median ${med('nginx')} req/s; one instance directly: median ${med('direct')} req/s; ` +
      `median of per-round ratios ${median(ratios).toFixed(3)}× (${spread(ratios)}×)`,
  );
  const splitRatios = rounds.map((r) => r.splitRatio);
  console.log(
    `  nginx in front of one instance: median ${med('single')} req/s, ${median(singleRatios).toFixed(3)}× (${spread(singleRatios)}×) of direct`,
  );
  console.log(
    `  the three instances without nginx (50 connections split over them): median ${med('split')} req/s, ` +
      `${median(splitRatios).toFixed(3)}× (${spread(splitRatios)}×) of direct`,
  );
  console.log(
    `  servers' CPU (instances and nginx, median of the rounds) per request and share of their cpus used: ` +
      Object.entries(cpuUse)
        .map(
          ([name, values]) =>
            `${name} ${(median(values.map((v) => v.perRequest)) * 1000).toFixed(0)} µs, ` +
            `${(median(values.map((v) => v.share)) * 100).toFixed(0)}%`,
        )
        .join('; '),
  );
}
