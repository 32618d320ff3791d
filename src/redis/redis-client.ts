import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';
import { AdapterClusterClient, AdapterRedisClient } from './adapter-redis-client.js';

/** A connection to Redis: one server (`REDIS_MODE=single`) or a Redis Cluster (`cluster`). */
export type RedisClient = Redis | Cluster;

/**
 * A Redis client that fails fast instead of waiting: commands are refused at
 * once while disconnected (no offline queue) and reconnects retry at most half a
 * second apart. Deadlines per call are RedisHealth's (see deadline.ts), so a
 * Redis outage costs a request one quick error, never the tens of seconds of
 * ioredis's defaults. No `commandTimeout`: ioredis would start a timer per
 * command and, clearing it, `delete` a property of the command (a dictionary
 * allocated per command). On a cached read that was most of what survived
 * young-generation collections, and without it the read's p99 at half load
 * fell from 54 to 44 ms (bench/README.md). A reply that never comes is
 * bounded anyway: RedisHealth stops sending once its probe fails, and the
 * commands still waiting settle when Redis answers again or the connection
 * closes.
 *
 * No auto-pipelining either: it queues each command until the next
 * `setImmediate` and sends the tick's commands as one pipeline, whose
 * objects then outlive young-generation collections. Under cached reads at
 * 8,000 a second, 2 KB a request reached the old generation, a mark-compact
 * every 4 s (its concurrent marking on the service's core) made the p99
 * 44 ms; sent as they come, no mark-compact in 30 s, p99 6.6 ms, and the
 * most reads a second went from 14,600 to 19,700 (bench/README.md). A
 * command is written when it is sent, so commands keep the order they were
 * sent in, on each connection.
 *
 * In cluster mode the same rules hold for each node, and ioredis's Cluster
 * sends each command to the master owning its keys' slot (never to a replica:
 * a replica may lag behind its master). A command for a master that is gone
 * fails at once ("Connection is closed", as a single Redis that is away);
 * the slot map is read again every second and on every redirection, so once
 * a replica has taken over, commands reach it within about a second.
 */
export function createRedisClient(config: AppConfig, connectionName: string): RedisClient {
  const node: NodeOptions = {
    connectionName,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  };
  const client =
    config.redisMode === 'cluster'
      ? new Cluster(seedNodes(config), {
          ...clusterOptions(config, node),
          enableOfflineQueue: false,
        })
      : new Redis(config.redisUrl, {
          ...node,
          enableOfflineQueue: false,
          retryStrategy: (attempt) => Math.min(50 * attempt, 500),
        });
  // Connection errors are reported through the clients' state; without a
  // listener ioredis would print each reconnect attempt as unhandled.
  client.on('error', () => undefined);
  return client;
}

/**
 * The publisher and subscriber of the socket.io Redis adapter (the sharded
 * one: SPUBLISH and SSUBSCRIBE): the publisher drops what it cannot send
 * while Redis is away rather than queueing it; the subscriber (a connection
 * in subscriber mode, so not the shared one; on a cluster, one such
 * connection per master, which ioredis's `shardedSubscribers` keeps)
 * resubscribes when Redis returns or a replica takes over. The same for the
 * writes' own channels (realtime/write-channels.ts), under another `name`.
 */
export function createPubSubClients(config: AppConfig, name = 'pulse-io'): { pub: RedisClient; sub: RedisClient } {
  let pub: RedisClient;
  let sub: RedisClient;
  if (config.redisMode === 'cluster') {
    const node: NodeOptions = { connectTimeout: 1000, maxRetriesPerRequest: 0 };
    pub = new AdapterClusterClient(seedNodes(config), {
      ...clusterOptions(config, { ...node, connectionName: `${name}-pub` }),
      enableOfflineQueue: false,
    });
    sub = new AdapterClusterClient(seedNodes(config), {
      ...clusterOptions(config, { ...node, connectionName: `${name}-sub` }),
      shardedSubscribers: true,
    });
  } else {
    pub = new AdapterRedisClient(config.redisUrl, {
      connectionName: `${name}-pub`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    sub = new AdapterRedisClient(config.redisUrl, { connectionName: `${name}-sub`, maxRetriesPerRequest: null });
  }
  for (const client of [pub, sub]) client.on('error', () => undefined);
  return { pub, sub };
}

function seedNodes(config: AppConfig): { host: string; port: number }[] {
  return config.redisClusterNodes.map(({ host, port }) => ({ host, port }));
}

/** A cluster node's options: the cluster itself decides about queueing and reconnecting. */
type NodeOptions = Omit<RedisOptions, 'enableOfflineQueue' | 'retryStrategy' | 'replyMapping'>;

/** What every cluster client of Pulse shares: credentials, quick retries, a fresh slot map. */
function clusterOptions(
  config: AppConfig,
  redisOptions: NodeOptions,
): ClusterOptions & { redisOptions: NodeOptions & { replyMapping?: 'legacy' } } {
  const [first] = config.redisClusterNodes;
  return {
    redisOptions: {
      ...redisOptions,
      ...(first?.username ? { username: first.username } : {}),
      ...(first?.password ? { password: first.password } : {}),
      ...(first?.tls ? { tls: {} } : {}),
    },
    scaleReads: 'master',
    clusterRetryStrategy: (attempt) => Math.min(50 * attempt, 500),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 1000,
    slotsRefreshInterval: 1000,
  };
}
