import type { RedisClient } from './redis-client.js';

/**
 * Lua that sets `incarnation` to the run id (its first 12 digits) of the
 * server running the script: on a cluster, the master that owns the keys'
 * slot now. A restarted server, or a replica that took over, has another.
 */
export const LUA_INCARNATION = `local incarnation = string.sub(string.match(redis.call('INFO', 'server'), 'run_id:(%x+)'), 1, 12)`;

/**
 * A Lua script on `client`, sent by its SHA1 (EVALSHA, with ioredis falling
 * back to EVAL once when Redis does not know it yet), so a hot path does not
 * send and hash the script's text on every call.
 */
export function defineScript<T>(
  client: RedisClient,
  name: string,
  lua: string,
  { buffers = false }: { buffers?: boolean } = {},
): (keys: readonly string[], args: readonly (string | number)[]) => Promise<T> {
  client.defineCommand(name, { lua });
  // defineCommand adds the command (and its `…Buffer` twin, whose bulk replies
  // are Buffers) to the client at run time; its type cannot know them.
  const methods = client as unknown as Record<string, (...args: unknown[]) => Promise<T>>;
  const command = methods[buffers ? `${name}Buffer` : name]!.bind(client);
  return (keys, args) => command(keys.length, ...keys, ...args);
}
