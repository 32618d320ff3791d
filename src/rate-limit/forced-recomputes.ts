import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { rateLimited } from './rate-limit.guard.js';
import { RateLimiter } from './rate-limiter.js';

/** The organization's forced-recompute budget, in its slot (the hot path charges it too: CachedReads). */
export const forcedRecomputesKey = (organizationId: number) => `{o${organizationId}}:forced`;

/**
 * The budget of forced recomputes (`use_cache=false`, `Cache-Control:
 * no-cache`, refresh-cache) per organization, admins included. Charged where
 * a valid request turns into a forced computation, after validation, so a
 * request refused as invalid costs nothing.
 */
@Injectable()
export class ForcedRecomputes {
  private readonly windowMs: number;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {
    this.windowMs = config.rateLimitWindowSeconds * 1000;
  }

  async charge(organizationId: number): Promise<void> {
    const limit = this.config.rateLimitForced;
    const { allowed, retryAfterSeconds } = await this.limiter.consume(
      forcedRecomputesKey(organizationId),
      limit,
      this.windowMs,
    );
    if (!allowed) throw rateLimited('forced', limit, this.windowMs, retryAfterSeconds);
  }
}
