import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { AuthModule } from '../auth/auth.module.js';
import { TokenService } from '../auth/token.service.js';
import { AppConfig } from '../config/app-config.js';
import { isExport } from './rate-limit.decorators.js';
import { addressTracker, callerTracker, limitKey } from './rate-limit-keys.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimiter } from './rate-limiter.js';
import { RateLimiterModule } from './rate-limiter.module.js';
import { RateLimiterStorage } from './throttler-storage.js';

/**
 * Who a request counts against. The limits run before authentication, so
 * the token is read here: a valid one names the organization and subject,
 * anything else counts against the client address (which comes from the
 * connection unless TRUST_PROXY says which proxies to believe).
 */
function trackers(tokens: TokenService) {
  const principal = (request: FastifyRequest) => tokens.fromHeader(request.headers.authorization);
  return {
    caller: (req: Record<string, unknown>) => {
      const request = req as unknown as FastifyRequest;
      const p = principal(request);
      return p ? callerTracker(p) : addressTracker(request.ip);
    },
    organization: (req: Record<string, unknown>) => {
      const request = req as unknown as FastifyRequest;
      const p = principal(request);
      return p ? `{o${p.organizationId}}` : addressTracker(request.ip);
    },
  };
}

/**
 * Limits shared by every instance through Redis (rate-limiter.ts): requests
 * per caller and exports per organization here, at the door; forced
 * recomputes per organization where they are charged (ForcedRecomputes),
 * the gateway's socket events in realtime/.
 */
@Module({
  imports: [
    RateLimiterModule,
    ThrottlerModule.forRootAsync({
      imports: [AuthModule, RateLimiterModule],
      inject: [AppConfig, TokenService, RateLimiter],
      useFactory: (config: AppConfig, tokens: TokenService, limiter: RateLimiter) => {
        const ttl = config.rateLimitWindowSeconds * 1000;
        const { caller, organization } = trackers(tokens);
        const throttlers: ThrottlerOptions[] = [
          { name: 'default', ttl, limit: config.rateLimitRequests, getTracker: caller },
          {
            name: 'exports',
            ttl,
            limit: config.rateLimitExports,
            getTracker: organization,
            skipIf: (context) => !isExport(context),
            setHeaders: false,
          },
        ];
        return {
          throttlers,
          // One counter per limit and tracker, whatever the route; the tracker names the Redis slot.
          generateKey: (_context, tracker, name) => limitKey(tracker, name),
          storage: new RateLimiterStorage(limiter),
        };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class RateLimitModule {}
