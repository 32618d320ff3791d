import type { RedisClient } from './redis-client.js';

/**
 * Lua that sets `incarnation` to the run id (its first 12 digits) of the
 * server running the script: on a cluster, the master that owns the keys'
 * slot now. A restarted server, or a replica that took over, has another.
 */
const LUA_INCARNATION = `local incarnation = string.sub(string.match(redis.call('INFO', 'server'), 'run_id:(%x+)'), 1, 12)`;

/**
 * Lua that sets `tag` to the incarnation (above) followed by the generations
 * stored at KEYS[first], KEYS[first + 1]… ('0' for one never bumped), read
 * with one MGET however many there are (every key of a script is in one
 * slot, so on a cluster too). The one way every script of the cache builds
 * a tag.
 */
export const luaGenerationTag = (first: number) => `${LUA_INCARNATION}
local tag = incarnation
if #KEYS >= ${first} then
  for _, generation in ipairs(redis.call('MGET', unpack(KEYS, ${first}))) do tag = tag .. '.' .. (generation or '0') end
end`;

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
