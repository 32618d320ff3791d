import { Injectable, Logger } from '@nestjs/common';
import type { Scope } from './cache-scopes.js';
import { CacheStore } from './cache-store.js';
import { InvalidationOutbox } from './invalidation-outbox.repository.js';

/**
 * Bumps generations. When the store cannot take a bump, the bump is kept in
 * the PostgreSQL outbox and the store stops serving until it has replayed it,
 * so an entry older than a write is never served after that write returned.
 */
@Injectable()
export class CacheInvalidator {
  private readonly logger = new Logger('CacheInvalidator');

  constructor(
    private readonly store: CacheStore,
    private readonly outbox: InvalidationOutbox,
  ) {}

  async invalidate(organizationId: number, scopes: readonly Scope[]): Promise<void> {
    if (scopes.length === 0) return;
    try {
      await this.store.bump(organizationId, scopes);
      return;
    } catch (error) {
      this.logger.warn(`cache unreachable, invalidation of ${scopes.join(', ')} deferred: ${(error as Error).message}`);
    }
    try {
      await this.outbox.add(organizationId, scopes);
    } catch (error) {
      this.logger.error(
        `could not record deferred invalidation for organization ${organizationId}: ${(error as Error).message}`,
      );
    }
    this.store.suspect();
  }
}
