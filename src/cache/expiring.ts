/**
 * A result that the clock alone changes: it answers any request that starts
 * before `until` (ms since the epoch), and is never served from then on —
 * not from Redis, not from a computation in flight, not by the hot path.
 */
export class Expiring<T = unknown> {
  constructor(
    readonly value: T,
    readonly until: number,
  ) {}
}
