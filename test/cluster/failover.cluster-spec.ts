import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spansAt } from '../../src/cache/cache-scopes.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { ownDatabase } from '../support/database.js';
import { buildTicket } from '../support/factories.js';
import { Api, qs } from '../support/http.js';
import { FAILOVER_CLUSTER_PORT, TestRedisCluster } from '../support/redis-cluster.js';
import { TestRedisServer } from '../support/redis-server.js';
import { TestSocket } from '../support/socket.js';
import { openLoop, recordResponse, type LoadSample } from '../support/open-loop.js';

/**
 * A Redis Cluster failover under load (src/cache/README.md "Failover"): two
 * instances on a cluster of its own; an open-loop load of ~100 cached
 * reads/s over both for 12 s, and a ticket written every 400 ms but while
 * the master is replaced. At 2 s the replica
 * of the master owning the organization's slot stops copying it (its link
 * cut, as a replica that lags or was cut off), a ticket is written, and as
 * soon as the write has returned the master is killed (kill -9). The replica
 * takes over without that write's bump, and with the results computed before
 * it: only the incarnation in the tags keeps them from being served.
 */

const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RATE_PER_SECOND = 100;
const LOAD_MS = 12_000;
const WRITE_EVERY_MS = 400;
const KILL_AT_MS = 2_000;
const QUIET_AFTER_MS = 3_000;
/** From the issue: HITs again within 3 s of the promotion. */
const FIRST_HIT_WITHIN_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A write through `agent` every 200 ms (each waited for at `socket`) until one
 * reaches the socket or `withinMs` have passed: when it arrived
 * (`performance.now()`), or NaN.
 */
async function firstDelivery(agent: Api, socket: TestSocket, withinMs = 10_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    const res = await agent.post('/api/v1/tickets', buildTicket({ created_at: new Date().toISOString() }));
    expect(res.status, res.text).toBe(201);
    const arrived = await socket
      .next('metric_update', (u) => u.ticket_id === res.body.id, 200)
      .then(
        () => true,
        () => false,
      );
    if (arrived) return performance.now();
  }
  return NaN;
}
const round = (n: number) => Math.round(n * 10) / 10;

interface Sample extends LoadSample {
  readonly instance: string;
}

interface Write {
  readonly sentAt: number;
  doneAt: number;
  status: number;
}

const brief = (s: Sample) =>
  `#${s.index} ${s.query} on ${s.instance} sent ${s.sentAt.toFixed(0)} ms, done ${s.doneAt.toFixed(0)} ms: ` +
  `${s.error ?? s.status} X-Cache=${s.cache} value=${s.value}`;

describe('Redis Cluster: failover of the organization’s master under load', () => {
  let cluster: TestRedisCluster;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    cluster = await TestRedisCluster.start(FAILOVER_CLUSTER_PORT);
    const env = {
      REDIS_MODE: 'cluster',
      REDIS_URL: cluster.url,
      DATABASE_URL: await ownDatabase('redis_failover'),
      RATE_LIMIT_REQUESTS: '100000',
      RATE_LIMIT_FORCED: '100000',
      LOG_LEVEL: process.env.FAILOVER_LOG_LEVEL ?? 'error',
    };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cluster?.stop();
  });

  it('answers no 5xx and nothing older than a write that returned, and HITs again within 3 s of the promotion', async () => {
    const organizationId = newOrganizationId();
    const token = tokenFor(organizationId, 'admin');
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const range = {
      start_date: new Date(hour - 7 * DAY).toISOString(),
      end_date: new Date(hour + 2 * HOUR).toISOString(),
    };
    const seeded = Array.from({ length: 20 }, (_, i) =>
      buildTicket({ external_id: `failover-${i}`, created_at: new Date(hour - (i + 1) * 5 * HOUR).toISOString() }),
    );
    const inserted = await new Api(a.url, token).post('/api/v1/tickets/bulk', { tickets: seeded });
    expect(inserted.status, inserted.text).toBe(200);

    // Every query counts every ticket of the range: each write adds one.
    const queries = [
      {
        name: 'time-series',
        path: `/api/v1/analytics/time-series/ticket_count${qs({ ...range, granularity: 'daily' })}`,
        read: (body: any) => body.total_count as number,
      },
      {
        name: 'distribution',
        path: `/api/v1/analytics/distribution/status${qs(range)}`,
        read: (body: any) => body.total,
      },
      { name: 'dashboard', path: `/api/v1/analytics/dashboard${qs(range)}`, read: (body: any) => body.total_tickets },
    ];
    const instances = [
      { name: 'A', url: a.url },
      { name: 'B', url: b.url },
    ];
    const get = (url: string, path: string, signal?: AbortSignal) =>
      fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal });

    // Warm: every query a HIT on both instances.
    for (const q of queries) {
      for (const instance of instances) {
        let cache: string | null = null;
        for (let attempt = 0; attempt < 100 && cache !== 'HIT'; attempt++) {
          const res = await get(instance.url, q.path);
          const body = await res.json();
          expect(res.status).toBe(200);
          expect(q.read(body), q.name).toBe(seeded.length);
          cache = res.headers.get('x-cache');
          if (cache !== 'HIT') await sleep(20);
        }
        expect(cache, `${q.name} on ${instance.name} did not become a HIT`).toBe('HIT');
      }
    }

    // The generation each write bumps: ticket_count's span of the month its tickets are created in.
    const [month] = spansAt(new Date(hour - 30 * 60_000));
    const key = `pulse:{o${organizationId}}:gen:metric:ticket_count@${month}`;
    const masterPort = await cluster.masterOf(key);
    const master = (await cluster.nodes()).find((n) => n.port === masterPort)!;
    const replica = (await cluster.nodes()).find((n) => n.masterId === master.id)!;
    expect(replica, 'the master has a replica').toBeDefined();
    const survivor = cluster.ports.find((p) => p !== masterPort)!;

    const t0 = performance.now();
    const clock = () => performance.now() - t0;
    const untilMs = (at: number) => sleep(Math.max(0, at - clock()));
    const samples: Sample[] = [];
    const writes: Write[] = [];
    const inFlight: Promise<void>[] = [];

    const write = async (instance: (typeof instances)[number]) => {
      const entry: Write = { sentAt: clock(), doneAt: 0, status: 0 };
      writes.push(entry);
      const res = await fetch(`${instance.url}/api/v1/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(buildTicket({ created_at: new Date(hour - 30 * 60_000).toISOString() })),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      entry.status = res.status;
      await res.text();
      entry.doneAt = clock();
    };

    const fire = (index: number) => {
      const q = queries[index % queries.length]!;
      const instance = instances[Math.floor(index / queries.length) % instances.length]!;
      const sample: Sample = {
        index,
        query: q.name,
        instance: instance.name,
        sentAt: clock(),
        doneAt: 0,
        status: 0,
        cache: null,
        value: null,
      };
      samples.push(sample);
      inFlight.push(
        recordResponse(sample, () => get(instance.url, q.path, AbortSignal.timeout(REQUEST_TIMEOUT_MS)), q.read, clock),
      );
    };
    const total = (LOAD_MS / 1000) * RATE_PER_SECOND;
    const load = openLoop(clock, RATE_PER_SECOND, total, fire);

    const events = {
      cutAt: NaN,
      killedWriteSentAt: NaN,
      killedAt: NaN,
      promotedAt: NaN,
      genBefore: '',
      genAfter: '',
      entriesOnReplica: 0,
    };
    // Writes on their own schedule, alternating instances, one at a time; none
    // from just before the kill until 3 s after the promotion (the scenario
    // writes then), so nothing but the tags' incarnation can keep the results
    // computed before the last write from being served then: a write whose
    // bump is replayed after the promotion would bump past them.
    const quiet = (at: number) => at >= KILL_AT_MS - WRITE_EVERY_MS / 2 && !(at > events.promotedAt + QUIET_AFTER_MS);
    const writer = (async () => {
      for (let i = 0; clock() < LOAD_MS - 500; i++) {
        await untilMs(WRITE_EVERY_MS * (i + 1));
        if (!quiet(clock())) await write(instances[i % 2]!);
      }
    })();

    const scenario = (async () => {
      await untilMs(KILL_AT_MS);
      await cluster.cutReplica(replica.port);
      events.cutAt = clock();
      events.killedWriteSentAt = clock();
      await write(instances[0]!);
      // Right after the write returned: the generation it bumped, then kill -9.
      events.genBefore = String(await cluster.ask(masterPort, (c) => c.get(key)));
      cluster.kill(masterPort);
      events.killedAt = clock();
      for (;;) {
        const seen = await cluster.nodesSeenBy(survivor).catch(() => []);
        if (seen.find((n) => n.id === replica.id)?.master) break;
        await sleep(20);
      }
      events.promotedAt = clock();
      events.genAfter = String(await cluster.ask(replica.port, (c) => c.get(key)));
      // The results stored before the cut, which the promoted replica still holds.
      const entries = await cluster.ask(replica.port, (c) => c.keys(`pulse:{o${organizationId}}:res:*`));
      events.entriesOnReplica = entries.length;
    })();

    const [scenarioOutcome, , writerOutcome] = await Promise.allSettled([scenario, load, writer]);
    await Promise.all(inFlight);
    if (scenarioOutcome.status === 'rejected') throw scenarioOutcome.reason;
    if (writerOutcome.status === 'rejected') throw writerOutcome.reason;

    // A read is stale when it misses a write that had returned before the read was sent.
    const returnedBefore = (at: number) => writes.filter((w) => w.status === 201 && w.doneAt <= at).length;
    const startedBefore = (at: number) => writes.filter((w) => w.sentAt <= at).length;
    const answered = samples.filter((s) => s.status === 200);
    const stale = answered.filter((s) => s.value! < seeded.length + returnedBefore(s.sentAt));
    const impossible = answered.filter((s) => s.value! > seeded.length + startedBefore(s.doneAt));
    const serverErrors = samples.filter((s) => s.status >= 500);
    const failed = samples.filter((s) => s.error);
    const afterPromotion = samples.filter((s) => s.sentAt >= events.promotedAt);
    const firstHit = afterPromotion.filter((s) => s.cache === 'HIT').sort((x, y) => x.doneAt - y.doneAt)[0];
    const timeToHitMs = firstHit ? firstHit.doneAt - events.promotedAt : null;
    const counts = (list: Sample[]) => {
      const byCache: Record<string, number> = {};
      for (const s of list) {
        const result = s.error ? 'failed' : (s.cache ?? 'none');
        byCache[result] = (byCache[result] ?? 0) + 1;
      }
      return byCache;
    };
    const figures = {
      requests: samples.length,
      writes: writes.length,
      writes_201: writes.filter((w) => w.status === 201).length,
      server_errors_5xx: serverErrors.length,
      failed_or_timed_out: failed.length,
      stale_answers: stale.length,
      time_to_first_hit_after_promotion_ms: timeToHitMs === null ? null : round(timeToHitMs),
      promotion_after_kill_ms: round(events.promotedAt - events.killedAt),
      bump_lost_in_failover: events.genBefore !== events.genAfter,
      generation: { on_killed_master: events.genBefore, on_promoted_replica: events.genAfter },
      results_on_promoted_replica: events.entriesOnReplica,
      x_cache: {
        before_kill: counts(samples.filter((s) => s.doneAt < events.killedAt)),
        kill_to_promotion: counts(samples.filter((s) => s.sentAt >= events.killedAt && s.sentAt < events.promotedAt)),
        after_promotion: counts(afterPromotion),
      },
      timeline_ms: {
        replica_cut: round(events.cutAt),
        killed: round(events.killedAt),
        promoted: round(events.promotedAt),
      },
    };
    console.log(`redis-cluster-failover ${JSON.stringify(figures)}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(
      join(ARTIFACTS, 'redis-cluster-failover.json'),
      `${JSON.stringify(
        {
          ...figures,
          first_failed: failed.slice(0, 20).map(brief),
          first_stale: stale.slice(0, 20).map(brief),
          generated_at: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );

    // The scenario ran: the load, the writes, a promotion of the replica without the last write's bump.
    expect(samples.length).toBe(total);
    expect(
      writes.every((w) => w.status === 201),
      JSON.stringify(writes),
    ).toBe(true);
    expect(figures.bump_lost_in_failover, 'the promoted replica missed the bump of the write before the kill').toBe(
      true,
    );
    expect(events.entriesOnReplica, 'results stored before the cut, on the promoted replica').toBeGreaterThan(0);
    expect(samples.filter((s) => s.doneAt < events.killedAt && s.cache === 'HIT').length).toBeGreaterThan(50);

    expect(serverErrors.map(brief), '5xx').toEqual([]);
    expect(failed.map(brief), 'failed or timed out').toEqual([]);
    expect(stale.map(brief), 'answers older than a write that had returned').toEqual([]);
    expect(impossible.map(brief), 'answers counting writes not yet sent').toEqual([]);
    expect(firstHit, 'no HIT after the promotion').toBeDefined();
    expect(timeToHitMs!, `first HIT after the promotion: ${firstHit && brief(firstHit)}`).toBeLessThanOrEqual(
      FIRST_HIT_WITHIN_MS,
    );
  }, 120_000);
});

/**
 * The socket fan-out across a failover of the master that holds the
 * adapter's channel (sharded pub/sub: a channel lives on one master): while
 * it is gone, writes still answer (the publisher drops what it cannot
 * send); once its replica has taken over, the subscribers have subscribed
 * again there and a write on one instance reaches a socket on the other.
 */
describe('Redis Cluster: failover of the master holding the socket channel', () => {
  let cluster: TestRedisCluster;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    cluster = await TestRedisCluster.start(FAILOVER_CLUSTER_PORT);
    const env = { REDIS_MODE: 'cluster', REDIS_URL: cluster.url, RATE_LIMIT_REQUESTS: '100000' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cluster?.stop();
  });

  it('delivers writes from A to a socket on B again once the replica has taken over', async () => {
    const organizationId = newOrganizationId();
    const agent = new Api(a.url, tokenFor(organizationId, 'agent'));
    const socket = new TestSocket(b.url, tokenFor(organizationId, 'viewer'));
    try {
      await socket.connected();
      await socket.emit('subscribe', { metrics: ['ticket_count'] });
      const post = async () => {
        const res = await agent.post('/api/v1/tickets', buildTicket({ created_at: new Date().toISOString() }));
        expect(res.status, res.text).toBe(201);
        return res.body.id as string;
      };
      const before = await post();
      expect(await socket.next('metric_update', (u) => u.ticket_id === before)).toMatchObject({ value: 1 });

      // The organization's write channel, and the master that holds it.
      const channelMaster = await cluster.masterOf(`pulse:io:writes{o${organizationId}}`);
      const master = (await cluster.nodes()).find((n) => n.port === channelMaster)!;
      const replica = (await cluster.nodes()).find((n) => n.masterId === master.id)!;
      const survivor = cluster.ports.find((p) => p !== channelMaster)!;
      cluster.kill(channelMaster);
      const killedAt = performance.now();
      // Writes while the channel has no master are answered; their messages are lost.
      await post();
      for (;;) {
        const seen = await cluster.nodesSeenBy(survivor).catch(() => []);
        if (seen.find((n) => n.id === replica.id)?.master) break;
        expect(performance.now() - killedAt, 'the replica took over').toBeLessThan(20_000);
        await sleep(20);
      }
      const promotedAt = performance.now();
      // A write every 200 ms until one reaches the socket on B.
      const deliveredAt = await firstDelivery(agent, socket);
      console.log(
        `redis-cluster-failover socket ${JSON.stringify({
          promotion_after_kill_ms: round(promotedAt - killedAt),
          first_delivery_after_promotion_ms: round(deliveredAt - promotedAt),
        })}`,
      );
      expect(deliveredAt - promotedAt, 'a write reached the other instance after the promotion').toBeLessThan(5_000);
    } finally {
      socket.close();
    }
  }, 60_000);
});

/**
 * The same on one Redis (REDIS_MODE=single, the sharded adapter too): Redis
 * killed and started again empty; writes meanwhile are answered, and once it
 * is back the subscribers have subscribed again and writes reach the other
 * instance. (On the failover cluster's first port, free by now.)
 */
describe('one Redis restarted: the socket fan-out comes back', () => {
  let redis: TestRedisServer;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await TestRedisServer.start(FAILOVER_CLUSTER_PORT);
    const env = { REDIS_MODE: 'single', REDIS_URL: redis.url, RATE_LIMIT_REQUESTS: '100000' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('delivers writes from A to a socket on B again once Redis is back', async () => {
    const organizationId = newOrganizationId();
    const agent = new Api(a.url, tokenFor(organizationId, 'agent'));
    const socket = new TestSocket(b.url, tokenFor(organizationId, 'viewer'));
    try {
      await socket.connected();
      await socket.emit('subscribe', { metrics: ['ticket_count'] });
      const post = async () => {
        const res = await agent.post('/api/v1/tickets', buildTicket({ created_at: new Date().toISOString() }));
        expect(res.status, res.text).toBe(201);
        return res.body.id as string;
      };
      const before = await post();
      await socket.next('metric_update', (u) => u.ticket_id === before);
      await redis.stop();
      const during = await post();
      await redis.launch();
      const delivered = !Number.isNaN(await firstDelivery(agent, socket));
      expect(delivered, 'a write reached the other instance after Redis returned').toBe(true);
      expect(socket.events.some((e) => e.name === 'metric_update' && e.payload.ticket_id === during)).toBe(false);
    } finally {
      socket.close();
    }
  });

  it('answers a subscribe while Redis is frozen, and its socket hears A’s writes once Redis answers again', async () => {
    const organizationId = newOrganizationId();
    const agent = new Api(a.url, tokenFor(organizationId, 'agent'));
    const socket = new TestSocket(b.url, tokenFor(organizationId, 'viewer'));
    try {
      await socket.connected();
      // B's first room of the organization: its write channel's SSUBSCRIBE gets no reply while Redis is frozen.
      redis.pause();
      let reply: unknown;
      try {
        reply = await socket.emit('subscribe', { metrics: ['ticket_count'] });
        await socket.next('subscription_data');
      } finally {
        redis.resume();
      }
      expect(reply).toMatchObject({ ok: true });
      const delivered = !Number.isNaN(await firstDelivery(agent, socket));
      expect(delivered, 'a write of A reached the socket on B once Redis answered').toBe(true);
    } finally {
      socket.close();
    }
  });
});
