import { createAdapter } from '@socket.io/redis-adapter';
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { freePort } from '../../test/support/redis-server.js';
import { AdapterRedisClient } from './adapter-redis-client.js';

/**
 * What the socket.io Redis adapter does with a Redis that is away: a
 * broadcast, a server-side emit and closing the adapter, with both clients
 * pointed at a port where nothing listens. (The second test runs the same
 * steps with plain clients in a child process.)
 */
async function exercise(Client: typeof Redis, port: number): Promise<void> {
  const pub = new Client(port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const sub = new Client(port, '127.0.0.1', { maxRetriesPerRequest: null });
  for (const client of [pub, sub]) client.on('error', () => undefined);
  const io = new Server({ adapter: createAdapter(pub, sub) });
  io.to('room').emit('event', 1);
  io.serverSideEmit('event', 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await io.of('/').adapter.close();
  pub.disconnect();
  sub.disconnect();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('AdapterRedisClient', () => {
  it('leaves no unhandled rejection behind while Redis is away', async () => {
    const rejections: unknown[] = [];
    const count = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', count);
    try {
      await exercise(AdapterRedisClient, await freePort());
    } finally {
      process.off('unhandledRejection', count);
    }
    expect(rejections).toEqual([]);
  });

  it('is still needed: with a plain ioredis client the adapter leaves its failed commands unhandled', async () => {
    // In a process of its own, where an unhandled rejection is counted rather than failing this run.
    const script = `
      import { createAdapter } from '@socket.io/redis-adapter';
      import { Redis } from 'ioredis';
      import { Server } from 'socket.io';
      let rejections = 0;
      process.on('unhandledRejection', () => (rejections += 1));
      const pub = new Redis(${await freePort()}, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      const sub = new Redis(pub.options.port, '127.0.0.1', { maxRetriesPerRequest: null });
      for (const client of [pub, sub]) client.on('error', () => undefined);
      const io = new Server({ adapter: createAdapter(pub, sub) });
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
