import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { CacheKeys } from './cache-keys.js';
import type { Scope } from './cache-scopes.js';
import { CacheStore, CacheUnavailableError } from './cache-store.js';
import { InvalidationOutbox } from './invalidation-outbox.repository.js';

export const CACHE_REDIS = Symbol('CACHE_REDIS');

const UNLOCK_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const REPLAY_INTERVAL_MS = 1000;
/** How long boot waits for the cache before serving without it. */
const BOOT_WAIT_MS = 2000;

/**
 * The cache on Redis. After any loss of the connection it serves nothing
 * until it has re-read the server's run id (a restarted Redis gets a new
 * one, so counters that restarted from zero or from an old snapshot can never
 * produce a tag seen before) and replayed the invalidation outbox (bumps that
 * writes could not deliver while Redis was away).
 */
@Injectable()
export class RedisCacheStore extends CacheStore implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RedisCacheStore');
  private ready = false;
  private incarnation = '';
  /** Counts connection losses, so a recovery that a newer loss overtook does not declare the store ready. */
  private losses = 0;
  private recovering = false;
  private readonly replayTimer: NodeJS.Timeout;

  constructor(
    @Inject(CACHE_REDIS) private readonly redis: Redis,
    private readonly keys: CacheKeys,
    private readonly outbox: InvalidationOutbox,
  ) {
    super();
    redis.on('ready', () => void this.recover());
    redis.on('close', () => this.lose());
    if (redis.status === 'ready') void this.recover();
    // Bumps another instance could not deliver reach Redis within a second.
    this.replayTimer = setInterval(() => void this.replayPending(), REPLAY_INTERVAL_MS).unref();
  }

  /** Serving starts with the cache when Redis answers soon; without it (degraded) otherwise. */
  async onApplicationBootstrap(): Promise<void> {
    const deadline = Date.now() + BOOT_WAIT_MS;
    while (!this.ready && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (!this.ready) this.logger.warn('Redis is not reachable: serving from the database until it is');
  }

  onModuleDestroy(): void {
    clearInterval(this.replayTimer);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Marks the store unusable until it has recovered; used when a bump failed. */
  suspect(): void {
    this.lose();
    if (this.redis.status === 'ready') void this.recover();
  }

  async generations(organizationId: number, scopes: readonly Scope[]): Promise<string> {
    if (!this.ready) throw new CacheUnavailableError('cache is recovering');
    const values = await this.failing(
      this.redis.mget(scopes.map((scope) => this.keys.generation(organizationId, scope))),
    );
    return [this.incarnation, ...values.map((v) => v ?? '0')].join('.');
  }

  async bump(organizationId: number, scopes: readonly Scope[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const scope of scopes) pipeline.incr(this.keys.generation(organizationId, scope));
    await this.exec(pipeline);
  }

  async get(key: string): Promise<string | null> {
    if (!this.ready) throw new CacheUnavailableError('cache is recovering');
    return this.failing(this.redis.get(key));
  }

  async set(organizationId: number, key: string, value: string, ttlMs: number, member: string): Promise<void> {
    if (!this.ready) throw new CacheUnavailableError('cache is recovering');
    const index = this.keys.index(organizationId);
    const now = Date.now();
    await this.exec(
      this.redis
        .pipeline()
        .set(key, value, 'PX', ttlMs)
        .zadd(index, now + ttlMs, member)
        .zremrangebyscore(index, '-inf', now)
        .pexpire(index, ttlMs),
    );
  }

  async tryLock(key: string, ttlMs: number): Promise<string | null> {
    const token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
    return (await this.redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.redis.eval(UNLOCK_SCRIPT, 1, key, token);
  }

  async countResult(organizationId: number, result: 'hits' | 'misses'): Promise<void> {
    await this.redis.hincrby(this.keys.counters(organizationId), result, 1);
  }

  async counters(organizationId: number): Promise<{ hits: number; misses: number }> {
    const [hits, misses] = await this.redis.hmget(this.keys.counters(organizationId), 'hits', 'misses');
    return { hits: Number(hits ?? 0), misses: Number(misses ?? 0) };
  }

  async entries(organizationId: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.index(organizationId), Date.now(), '+inf');
  }

  private lose(): void {
    this.ready = false;
    this.losses += 1;
  }

  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      while (this.redis.status === 'ready' && !this.ready) {
        const losses = this.losses;
        try {
          const info = await this.redis.info('server');
          const runId = /run_id:([0-9a-f]+)/.exec(info)?.[1];
          if (!runId) throw new Error('INFO server has no run_id');
          const replayed = await this.outbox.replay((org, scopes) => this.bump(org, scopes));
          if (replayed > 0) this.logger.warn(`replayed ${replayed} cache invalidation(s) held during a Redis outage`);
          if (losses === this.losses) {
            this.incarnation = runId.slice(0, 12);
            this.ready = true;
          }
        } catch (error) {
          this.logger.warn(`cache recovery failed, retrying: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    } finally {
      this.recovering = false;
    }
  }

  private async replayPending(): Promise<void> {
    if (!this.ready || this.recovering) return;
    try {
      if (!(await this.outbox.isEmpty())) await this.outbox.replay((org, scopes) => this.bump(org, scopes));
    } catch {
      // The next tick, or the next recovery, tries again.
    }
  }

  /**
   * A read that fails (most often a command timeout: Redis is frozen or the
   * network partitioned, while the connection looks open) makes the store
   * unusable until it has recovered. The requests that follow then fail at
   * once instead of each waiting out the command timeout.
   */
  private async failing<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (error) {
      this.suspect();
      throw error;
    }
  }

  /** Runs a pipeline and fails if any of its commands failed. */
  private async exec(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new CacheUnavailableError('pipeline was not executed');
  }
}
