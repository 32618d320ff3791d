import { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';
import { AdapterRedisClient } from './adapter-redis-client.js';

/** ioredis's own timer only clears commands whose reply never comes; RedisHealth sets the real deadline. */
const BACKSTOP_TIMEOUT_FACTOR = 20;

/**
 * A Redis client that fails fast instead of waiting: commands are refused at
 * once while disconnected (no offline queue) and reconnects retry at most half a
 * second apart. Deadlines per call are RedisHealth's (see deadline.ts), so a
 * Redis outage costs a request one quick error, never the tens of seconds of
 * ioredis's defaults.
 */
export function createRedisClient(config: AppConfig, connectionName: string): Redis {
  const client = new Redis(config.redisUrl, {
    connectionName,
    enableOfflineQueue: false,
    commandTimeout: config.redisCommandTimeoutMs * BACKSTOP_TIMEOUT_FACTOR,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
  });
  // Connection errors are reported through the clients' state; without a
  // listener ioredis would print each reconnect attempt as unhandled.
  client.on('error', () => undefined);
  return client;
}

/**
 * The publisher and subscriber of the socket.io Redis adapter: the publisher
 * drops what it cannot send while Redis is away rather than queueing it; the
 * subscriber (a connection in subscriber mode, so not the shared one)
 * resubscribes when Redis returns.
 */
export function createPubSubClients(config: AppConfig): { pub: Redis; sub: Redis } {
  const pub = new AdapterRedisClient(config.redisUrl, {
    connectionName: 'pulse-io-pub',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  const sub = new AdapterRedisClient(config.redisUrl, { connectionName: 'pulse-io-sub', maxRetriesPerRequest: null });
  for (const client of [pub, sub]) client.on('error', () => undefined);
  return { pub, sub };
}
