import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { RedisHealth } from '../redis/redis-health.js';
import type { Scope } from './cache-scopes.js';
import { CacheStore } from './cache-store.js';
import { InvalidationOutbox } from './invalidation-outbox.repository.js';

const REPLAY_INTERVAL_MS = 1000;
const OWED_RETRY_MS = 200;

/**
 * Bumps generations, and knows whether the cache may be served. A bump that
 * does not reach the store stays in the PostgreSQL outbox, and until this
 * instance has replayed it the cache serves nothing here, so an entry older
 * than a write is never served by this instance after that write returned.
 * Every instance also replays the outbox once a second (bumps another
 * instance could not deliver) and whenever Redis comes back.
 */
@Injectable()
export class CacheInvalidator implements OnModuleDestroy {
  private readonly logger = new Logger('CacheInvalidator');
  private owing = false;
  private replaying: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: CacheStore,
    private readonly outbox: InvalidationOutbox,
    @Optional() @Inject(RedisHealth) private readonly redis: RedisHealth | null,
  ) {
    redis?.onRecovery(() => this.replay());
    this.timer = setInterval(() => void this.replayPending(), REPLAY_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Whether cached results may be read and stored: Redis answers, and no bump is owed. */
  inSync(): boolean {
    return !this.owing && (this.redis?.isAvailable() ?? true);
  }

  /**
   * After a cache call failed: whether the cache may be tried again, once
   * Redis health has settled the doubt (a slow reply leaves Redis up; a
   * frozen or lost one takes it down).
   */
  async stillUsable(): Promise<boolean> {
    if (!this.redis) return false;
    return (await this.redis.decided()) !== 'down' && this.inSync();
  }

  /** An admin's invalidation: bumped now, or recorded and owed. */
  async invalidate(organizationId: number, scopes: readonly Scope[]): Promise<void> {
    if (scopes.length === 0) return;
    try {
      await this.store.bump(organizationId, scopes);
      return;
    } catch (error) {
      this.logger.warn(`cache unreachable, invalidation of ${scopes.join(', ')} deferred: ${(error as Error).message}`);
    }
    try {
      await this.outbox.add(null, organizationId, scopes);
    } catch (error) {
      this.logger.error(
        `could not record deferred invalidation for organization ${organizationId}: ${(error as Error).message}`,
      );
    }
    this.owe();
  }

  /**
   * A write's bump, recorded in the outbox by the write's transaction: bumped
   * now and its record deleted (the response does not wait for the delete;
   * a record left behind is replayed, which only costs a recomputation), or
   * left for the replay and owed.
   */
  async applyRecorded(organizationId: number, scopes: readonly Scope[], recordId: string): Promise<void> {
    try {
      await this.store.bump(organizationId, scopes);
    } catch (error) {
      this.logger.warn(`cache unreachable, invalidation of ${scopes.join(', ')} deferred: ${(error as Error).message}`);
      this.owe();
      return;
    }
    this.outbox.remove(organizationId, recordId).catch((error: Error) => {
      this.logger.warn(`invalidation record ${recordId} not deleted (it will be replayed): ${error.message}`);
    });
  }

  /**
   * Applies every recorded bump. Replays of one instance run one after the
   * other, and each starts after it was asked for, so it sees every record
   * committed before that.
   */
  replay(): Promise<void> {
    const run = this.replaying
      .catch(() => undefined)
      .then(() => this.outbox.replay((organizationId, scopes) => this.store.bump(organizationId, scopes)))
      .then((replayed) => {
        if (replayed > 0) this.logger.warn(`replayed ${replayed} deferred cache invalidation(s)`);
      });
    this.replaying = run;
    return run;
  }

  private owe(): void {
    if (this.owing) return;
    this.owing = true;
    void this.settle();
  }

  /** Retries the replay until it succeeds; only then is the cache served again. */
  private async settle(): Promise<void> {
    while (this.owing) {
      try {
        if (this.redis?.isAvailable() ?? true) {
          await this.replay();
          this.owing = false;
          return;
        }
      } catch (error) {
        this.logger.debug(`replay failed, retrying: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, OWED_RETRY_MS));
    }
  }

  private async replayPending(): Promise<void> {
    if (!this.inSync()) return;
    try {
      if (!(await this.outbox.isEmpty())) await this.replay();
    } catch {
      // The next tick, or the next recovery, tries again.
    }
  }
}
