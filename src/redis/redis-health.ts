import { Logger } from '@nestjs/common';
import { RedisTimeoutError, withDeadline } from './deadline.js';
import type { RedisClient } from './redis-client.js';

export class RedisUnavailableError extends Error {}

/**
 * - `up`: commands are sent and their answers trusted.
 * - `suspect`: a command failed; commands are still sent while a probe with a
 *   longer deadline decides whether Redis is slow (back to `up`) or gone.
 * - `down`: the connection is lost or the probe failed; nothing is sent, every
 *   call fails at once, until Redis answers again and recovery has run.
 */
export type RedisState = 'up' | 'suspect' | 'down';

export interface RedisHealthOptions {
  /** How long a call waits for its reply (REDIS_COMMAND_TIMEOUT_MS). */
  readonly commandTimeoutMs: number;
  /** How long the probe that decides "down" waits for a PING. */
  readonly probeTimeoutMs: number;
}

const RETRY_MS = 250;
const WARN_EVERY_MS = 10_000;

/**
 * The one view of whether Redis answers, shared by the cache, the rate
 * limits, /health and the socket adapter. One slow reply under load is not an
 * outage: a failed call only makes Redis suspect, and only a failed probe (a
 * PING with a deadline several times the command timeout) or a lost
 * connection takes it down. Each time it comes back, the server's run id is
 * read again (the incarnation: a restarted Redis has a new one) and the
 * recovery steps registered by its users run (the cache replays deferred
 * invalidations) before anything is served.
 */
export class RedisHealth {
  private readonly logger = new Logger('Redis');
  private current: RedisState = 'down';
  private runId = '';
  /** Counts losses, so a recovery that a newer loss overtook does not declare Redis up. */
  private losses = 0;
  private recovering = false;
  private probing: Promise<void> | null = null;
  /** The recovery steps are running: their own calls go through, although Redis is not declared up yet. */
  private runningSteps = false;
  private lastWarning = 0;
  private readonly recoverySteps: (() => Promise<void>)[] = [];

  constructor(
    readonly client: RedisClient,
    private readonly options: RedisHealthOptions,
  ) {
    client.on('ready', () => void this.recover());
    client.on('close', () => this.lose('connection closed'));
    if (client.status === 'ready') void this.recover();
  }

  get state(): RedisState {
    return this.current;
  }

  /** Whether calls are sent now (`up` or `suspect`). */
  isAvailable(): boolean {
    return this.current !== 'down';
  }

  /**
   * The run id of the Redis server that answered the last recovery (on a
   * cluster, any node); changes when Redis restarts. For /health and logs:
   * the cache reads the incarnation of its tags inside its scripts, from the
   * server that holds the organization's keys (redis-script.ts).
   */
  get incarnation(): string {
    return this.runId;
  }

  /** A step that must succeed before Redis is used again after it was down (the cache's outbox replay). */
  onRecovery(step: () => Promise<void>): void {
    this.recoverySteps.push(step);
    // Redis may have connected, and been declared up, while the application was
    // still being built, before this step was registered: that recovery ran
    // without it (a fresh instance that skipped the cache's replay would serve
    // entries older than a write whose bump a dead instance left behind), so
    // Redis is recovered again, with every step, before it is used.
    if (this.current !== 'down') {
      this.losses += 1;
      this.current = 'down';
      void this.recover();
    }
  }

  /**
   * Sends one call (a command, a pipeline, a script) with the command deadline
   * (or `timeoutMs` for calls that are worth a longer wait), and records how it
   * went. While Redis is down it fails at once without sending anything.
   */
  async call<T>(send: (redis: RedisClient) => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
    if (this.current === 'down' && !this.runningSteps) throw new RedisUnavailableError('Redis is unavailable');
    try {
      const result = await withDeadline(send(this.client), timeoutMs);
      if (this.current === 'suspect' && this.probing === null) this.current = 'up';
      return result;
    } catch (error) {
      this.failed(error as Error);
      throw error;
    }
  }

  /**
   * The state once a doubt is settled: while Redis is suspect, waits for the
   * probe (at most its deadline) and answers what it decided.
   */
  async decided(): Promise<RedisState> {
    if (this.probing) await this.probing;
    return this.current;
  }

  /** Waits until Redis is up, at most `ms`; returns whether it is. */
  async waitUntilAvailable(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.current === 'down' && Date.now() < deadline) await sleep(20);
    return this.current !== 'down';
  }

  private failed(error: Error): void {
    if (this.current !== 'up') return;
    // A reply error (a script bug, a wrong type) says Redis answered.
    if (!(error instanceof RedisTimeoutError) && this.client.status === 'ready' && !isConnectionError(error)) return;
    this.current = 'suspect';
    this.warn(`Redis call failed (${error.message}); probing`);
    this.probing ??= this.probe().finally(() => (this.probing = null));
  }

  private async probe(): Promise<void> {
    const losses = this.losses;
    try {
      await withDeadline(this.client.ping(), this.options.probeTimeoutMs);
      if (losses === this.losses && this.current === 'suspect') this.current = 'up';
    } catch (error) {
      if (losses === this.losses) this.lose(`probe failed: ${(error as Error).message}`);
    }
  }

  private lose(reason: string): void {
    this.losses += 1;
    if (this.current !== 'down') this.warn(`Redis is unavailable (${reason}): serving without it until it returns`);
    this.current = 'down';
    // A frozen Redis keeps the connection open: keep probing until it answers.
    if (this.client.status === 'ready') void this.recover();
  }

  /** Until Redis answers: its run id, then the recovery steps, then `up`. */
  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      while (this.client.status === 'ready' && this.current === 'down') {
        const losses = this.losses;
        try {
          const info = await withDeadline(this.client.info('server'), this.options.probeTimeoutMs);
          const runId = /run_id:([0-9a-f]+)/.exec(info)?.[1];
          if (!runId) throw new Error('INFO server has no run_id');
          this.runningSteps = true;
          try {
            for (const step of this.recoverySteps) await step();
          } finally {
            this.runningSteps = false;
          }
          if (losses === this.losses) {
            this.runId = runId.slice(0, 12);
            this.current = 'up';
            this.logger.log('Redis is available');
          }
        } catch (error) {
          this.warn(`Redis recovery failed, retrying: ${(error as Error).message}`);
          await sleep(RETRY_MS);
        }
      }
    } finally {
      this.recovering = false;
    }
  }

  private warn(message: string): void {
    if (Date.now() - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = Date.now();
    this.logger.warn(message);
  }
}

function isConnectionError(error: Error): boolean {
  return /connection|closed|ECONN|EPIPE|ETIMEDOUT|writable/i.test(error.message);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
