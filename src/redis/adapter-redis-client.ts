import { Redis, type Command } from 'ioredis';

/**
 * The Redis client of the socket.io Redis adapter (8.3). The adapter sends
 * its commands (PUBLISH, SUBSCRIBE, UNSUBSCRIBE, …) and drops the promises
 * ioredis returns, so while Redis is away each failure would be an
 * unhandled rejection. This client marks every command's promise as handled
 * as it is sent (ioredis's public `sendCommand`, the path of every command);
 * a caller that awaits the command still gets the rejection. A broadcast to
 * the other instances is then lost while Redis is away, and each instance
 * still serves its own sockets.
 *
 * `adapter-redis-client.spec.ts` fails when the adapter starts handling these
 * promises itself (then this class can go) or stops sending through
 * `sendCommand` (then it no longer helps).
 */
export class AdapterRedisClient extends Redis {
  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    command.promise.catch(() => undefined);
    return super.sendCommand(command, stream);
  }
}
