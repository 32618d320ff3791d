import { Global, Module } from '@nestjs/common';
import { ForcedRecomputes } from './forced-recomputes.js';
import { RateLimiter } from './rate-limiter.js';

/** The limiter and the forced-recompute budget, for the HTTP limits, the executor and the gateway. */
@Global()
@Module({ providers: [RateLimiter, ForcedRecomputes], exports: [RateLimiter, ForcedRecomputes] })
export class RateLimiterModule {}
