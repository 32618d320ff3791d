import { createShardedAdapter } from '@socket.io/redis-adapter';
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { freePort } from '../../test/support/redis-server.js';
import { AdapterClusterClient, AdapterRedisClient } from './adapter-redis-client.js';

/**
 * What the socket.io Redis adapter (its sharded adapter, as Pulse runs it)
 * does with a Redis that is away: a broadcast, a server-side emit and
 * closing the adapter, with both clients pointed at a port where nothing
 * listens. The subscriber here has no offline queue, so its SSUBSCRIBE and
 * SUNSUBSCRIBE fail at once, as any of them may fail when a connection drops
 * (the second test runs the same steps with plain clients in a child process).
 */
async function exercise(pub: Redis | AdapterClusterClient, sub: Redis | AdapterClusterClient): Promise<void> {
  for (const client of [pub, sub]) client.on('error', () => undefined);
  const io = new Server({ adapter: createShardedAdapter(pub, sub, { subscriptionMode: 'static' }) });
  io.to('room').emit('event', 1);
  io.serverSideEmit('event', 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await io.of('/').adapter.close();
  pub.disconnect();
  sub.disconnect();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

async function unhandledDuring(run: () => Promise<void>): Promise<unknown[]> {
  const rejections: unknown[] = [];
  const count = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', count);
  try {
    await run();
  } finally {
    process.off('unhandledRejection', count);
  }
  return rejections;
}

describe('AdapterRedisClient', () => {
  it('leaves no unhandled rejection behind while Redis is away', async () => {
    const port = await freePort();
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };
    const rejections = await unhandledDuring(() =>
      exercise(new AdapterRedisClient(port, '127.0.0.1', options), new AdapterRedisClient(port, '127.0.0.1', options)),
    );
    expect(rejections).toEqual([]);
  });

  it('nor on a Redis Cluster that is away (AdapterClusterClient)', async () => {
    const nodes = [{ host: '127.0.0.1', port: await freePort() }];
    const options = { enableOfflineQueue: false, clusterRetryStrategy: () => null };
    const rejections = await unhandledDuring(() =>
      exercise(
        new AdapterClusterClient(nodes, options),
        new AdapterClusterClient(nodes, { ...options, shardedSubscribers: true }),
      ),
    );
    expect(rejections).toEqual([]);
  });

  it('is still needed: with a plain ioredis client the adapter leaves its failed commands unhandled', async () => {
    // In a process of its own, where an unhandled rejection is counted rather than failing this run.
    const script = `
      import { createShardedAdapter } from '@socket.io/redis-adapter';
      import { Redis } from 'ioredis';
      import { Server } from 'socket.io';
      let rejections = 0;
      process.on('unhandledRejection', () => (rejections += 1));
      const options = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };
      const pub = new Redis(${await freePort()}, '127.0.0.1', options);
      const sub = new Redis(pub.options.port, '127.0.0.1', options);
      for (const client of [pub, sub]) client.on('error', () => undefined);
      const io = new Server({ adapter: createShardedAdapter(pub, sub, { subscriptionMode: 'static' }) });
      io.to('room').emit('event', 1);
      io.serverSideEmit('event', 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await io.of('/').adapter.close();
      pub.disconnect();
      sub.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
      process.stdout.write(String(rejections));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(Number(output)).toBeGreaterThan(0);
  });
});
