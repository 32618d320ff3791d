/**
 * A randomized spec's seed: the environment variable `name` when set, to
 * replay a failed run, otherwise a new one. The test harness reads it, not
 * the code under test.
 */
export function replaySeed(name: string): number {
  const given = process.env[name];
  return given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);
}
