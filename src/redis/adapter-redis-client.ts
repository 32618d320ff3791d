import { Cluster, Redis, type Command } from 'ioredis';

/**
 * The Redis clients of the socket.io Redis adapter (8.3, its sharded
 * adapter). The adapter sends its commands (SSUBSCRIBE, SUNSUBSCRIBE,
 * SPUBLISH, …) and drops the promises ioredis returns, so while Redis is
 * away each failure would be an unhandled rejection. These clients mark every
 * command's promise as handled as it is sent (ioredis's public `sendCommand`,
 * the path of every command, on a single Redis and on a cluster); a caller
 * that awaits the command still gets the rejection. A broadcast to the other
 * instances is then lost while Redis is away, and each instance still serves
 * its own sockets.
 *
 * `adapter-redis-client.spec.ts` fails when the adapter starts handling these
 * promises itself (then these classes can go) or stops sending through
 * `sendCommand` (then they no longer help).
 */
export class AdapterRedisClient extends Redis {
  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    command.promise.catch(() => undefined);
    return super.sendCommand(command, stream);
  }
}

/** The same on a Redis Cluster. */
export class AdapterClusterClient extends Cluster {
  override sendCommand(
    command: Command,
    stream?: Parameters<Cluster['sendCommand']>[1],
    node?: Parameters<Cluster['sendCommand']>[2],
  ): unknown {
    command.promise.catch(() => undefined);
    return super.sendCommand(command, stream, node);
  }
}
