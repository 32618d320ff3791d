import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { DomainError } from '../common/errors.js';

/** What each named limit counts, for the 429 message. */
const LIMITED: Record<string, string> = {
  default: 'requests per caller',
  forced: 'forced recomputes (use_cache=false, Cache-Control: no-cache, refresh-cache) per organization',
  exports: 'exports per organization',
};

/** `429 RATE_LIMITED` naming the limit that was hit, with `Retry-After` in seconds. */
export function rateLimited(name: string, limit: number, windowMs: number, retryAfterSeconds: number): DomainError {
  const seconds = Math.max(1, retryAfterSeconds);
  const what = Object.hasOwn(LIMITED, name) ? LIMITED[name] : name;
  return new DomainError(
    'RATE_LIMITED',
    `rate limit exceeded: at most ${limit} ${what} per ${Math.round(windowMs / 1000)} s; retry after ${seconds} s`,
    {},
    seconds,
  );
}

/**
 * The throttler guard answering in the API's error shape. It runs before
 * authentication, so requests without a valid token are limited too (by
 * client address). WebSocket traffic is limited by the gateway.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return Promise.resolve(true);
    return super.canActivate(context);
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const name = detail.key.split(':')[0] ?? 'default';
    throw rateLimited(name, detail.limit, detail.ttl, detail.timeToBlockExpire);
  }
}
