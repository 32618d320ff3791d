import { Redis } from 'ioredis';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { Api } from '../support/http.js';
import { SHARED_CLUSTER_PORT } from '../support/redis-cluster.js';
import { TestSocket } from '../support/socket.js';

/** One command as MONITOR reported it: sent by a client, or run inside a script (`lua`). */
interface Sent {
  readonly node: number;
  readonly args: string[];
  readonly fromScript: boolean;
}

const NODES = Array.from({ length: 6 }, (_, i) => SHARED_CLUSTER_PORT + i);

/**
 * Every command Pulse sends to the cluster while it serves typical traffic,
 * recorded by MONITOR on every node, with the keys Redis itself finds in it
 * (COMMAND GETKEYS) and their slots (CLUSTER KEYSLOT) and, for a script's own commands, the keys they touch:
 * the keys of one command, and of one script with everything it runs, hash
 * to one slot; a script that touches keys names at least one of them, so it
 * runs on the node that owns them.
 */
describe('Redis Cluster: no cross-slot command', () => {
  let a: TestApp;
  let b: TestApp;
  const monitors: Redis[] = [];
  const sent: Sent[] = [];
  const errorsBefore = new Map<number, Map<string, number>>();

  beforeAll(async () => {
    for (const port of NODES) errorsBefore.set(port, await errorStats(port));
    for (const port of NODES) {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
      const monitor = await client.monitor();
      client.disconnect();
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        // MONITOR shows the monitors' own connection commands too; they are not Pulse's.
        sent.push({ node: port, args, fromScript: source === 'lua' });
      });
      monitors.push(monitor);
    }
    [a, b] = await Promise.all([startApp({ RATE_LIMIT_REQUESTS: '40' }), startApp({ RATE_LIMIT_REQUESTS: '40' })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const monitor of monitors) monitor.disconnect();
  });

  it('sends only commands whose keys hash to one slot, through reads, writes, admin calls, limits and sockets', async () => {
    const organizationId = newOrganizationId();
    const admin = new Api(a.url, tokenFor(organizationId, 'admin'));
    const adminB = new Api(b.url, tokenFor(organizationId, 'admin'));
    const viewer = new Api(b.url, tokenFor(organizationId, 'viewer'));

    const socket = new TestSocket(b.url, tokenFor(organizationId, 'viewer'));
    await socket.connected();
    await socket.emit('subscribe', { metrics: ['ticket_count'] });

    const now = Date.now();
    const created = await admin.post(
      '/api/v1/tickets',
      buildTicket({ created_at: new Date(now - 3600_000).toISOString() }),
    );
    expect(created.status, created.text).toBe(201);
    // Big enough to ask the channel's listeners first (write-channels.ts).
    const bulk = await admin.post('/api/v1/tickets/bulk', {
      tickets: Array.from({ length: 70 }, () => buildTicket({ created_at: new Date(now - 7200_000).toISOString() })),
    });
    expect(bulk.status, bulk.text).toBeLessThan(300);
    // A write on A reaches the socket on B: the adapter's SPUBLISH and SSUBSCRIBE.
    await socket.next('metric_update');

    const reads = [
      '/api/v1/analytics/time-series/ticket_count?period=7d',
      '/api/v1/analytics/dashboard?period=7d',
      '/api/v1/analytics/performance?period=7d',
      '/api/v1/analytics/distribution/status?period=7d',
    ];
    for (const path of reads) {
      for (const api of [viewer, admin, viewer]) expect((await api.get(path)).status).toBe(200);
      // A forced recompute, both ways.
      expect((await viewer.get(`${path}&use_cache=false`)).headers.get('x-cache')).toBe('BYPASS');
      expect((await viewer.get(path, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe('BYPASS');
    }
    // The hot path answers the remembered URL (the read script), and the remembered forced one (the forced script).
    expect((await viewer.get(reads[0]!)).headers.get('x-cache')).toBe('HIT');
    expect((await viewer.get(`${reads[0]}&use_cache=false`)).headers.get('x-cache')).toBe('BYPASS');
    const patched = await admin.patch(`/api/v1/tickets/${created.body.id}`, { status: 'resolved' });
    expect(patched.status, patched.text).toBe(200);
    expect((await adminB.delete('/api/v1/analytics/cache?pattern=dashboard')).status).toBe(200);
    expect((await adminB.delete('/api/v1/analytics/cache?pattern=all')).status).toBe(200);
    expect((await admin.post('/api/v1/analytics/refresh-cache')).status).toBe(202);
    expect((await admin.get('/api/v1/analytics/cache/stats')).status).toBe(200);
    // Rate limits: a caller over its limit, and callers without a token (counted by address).
    const limited = await Promise.all(Array.from({ length: 45 }, () => viewer.get(reads[0]!)));
    expect(limited.some((r) => r.status === 429)).toBe(true);
    expect((await new Api(a.url).get(reads[0]!)).status).toBe(401);
    socket.close();
    // The refresh runs in the background; let it and the sockets' last commands reach the monitors.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const commands = sent.filter(({ args }) => !['monitor', 'client', 'ping'].includes(args[0]!.toLowerCase()));
    const names = new Set(commands.map(({ args }) => args[0]!.toLowerCase()));
    // What the traffic above must have sent, or this test checked nothing.
    for (const name of ['evalsha', 'incr', 'set', 'zadd', 'spublish', 'ssubscribe']) expect(names).toContain(name);
    expect(commands.some((c) => c.fromScript && c.args[0]!.toLowerCase() === 'info')).toBe(true);

    // A command the cluster refused (CROSSSLOT, a script's key on another
    // node, …) never reaches MONITOR: the nodes' error counts must not have
    // grown but for NOSCRIPT (ioredis sends a script's text once after an
    // EVALSHA it did not know yet).
    const refused: string[] = [];
    for (const port of NODES) {
      const before = errorsBefore.get(port)!;
      for (const [error, count] of await errorStats(port)) {
        if (error !== 'evalsha' && count > (before.get(error) ?? 0)) refused.push(`${port}: ${error} ×${count}`);
      }
    }
    expect(refused).toEqual([]);

    const asker = new Redis(NODES[0]!, '127.0.0.1', { maxRetriesPerRequest: 0 });
    const keysOf = async (args: string[]): Promise<string[]> => {
      try {
        return (await asker.call('COMMAND', 'GETKEYS', ...args)) as string[];
      } catch {
        return []; // a command without keys (INFO, PING, CLUSTER …)
      }
    };
    // The cluster's own hash function (CRC16 of the hash tag or the key).
    const slotOf = async (key: string): Promise<number> => (await asker.cluster('KEYSLOT', key)) as number;
    const problems: string[] = [];
    try {
      // A script's own commands follow it in its node's stream (a script runs alone on its node).
      let script: { slots: Set<number>; keys: number; args: string[] } | undefined;
      for (const node of NODES) {
        script = undefined;
        for (const command of commands.filter((c) => c.node === node)) {
          const keys = await keysOf(command.args);
          const slots = new Set(await Promise.all(keys.map(slotOf)));
          const shown = command.args.slice(0, 4).join(' ');
          if (command.fromScript) {
            if (!script) {
              problems.push(`${shown}: run by a script that was not seen`);
              continue;
            }
            for (const slot of slots) script.slots.add(slot);
            if (keys.length > 0 && script.keys === 0) problems.push(`${script.args[0]}: touches keys it does not name`);
            if (script.slots.size > 1) problems.push(`${script.args.slice(0, 4).join(' ')} …: keys in several slots`);
            continue;
          }
          const isScript = ['eval', 'evalsha', 'fcall'].includes(command.args[0]!.toLowerCase());
          script = isScript ? { slots, keys: keys.length, args: command.args } : undefined;
          if (slots.size > 1) problems.push(`${shown} …: keys in ${slots.size} slots`);
        }
      }
    } finally {
      asker.disconnect();
    }
    expect([...new Set(problems)]).toEqual([]);
    expect(commands.length).toBeGreaterThan(100);
  });
});

/** INFO commandstats of the node at `port`: how many calls of each command it refused or failed. */
async function errorStats(port: number): Promise<Map<string, number>> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  try {
    const info = await client.info('commandstats');
    const counts = [...info.matchAll(/cmdstat_([^:]+):.*rejected_calls=(\d+),failed_calls=(\d+)/g)];
    return new Map(counts.map(([, command, rejected, failed]) => [command!, Number(rejected) + Number(failed)]));
  } finally {
    client.disconnect();
  }
}
