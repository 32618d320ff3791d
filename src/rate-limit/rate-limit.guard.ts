import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { DomainError } from '../common/errors.js';

/** What each named limit counts, for the 429 message. */
const LIMITED: Record<string, string> = {
  default: 'requests per caller',
  forced: 'forced recomputes (use_cache=false, Cache-Control: no-cache, refresh-cache) per organization',
  exports: 'exports per organization',
};

/**
 * The throttler guard answering in the API's error shape: `429 RATE_LIMITED`
 * naming the limit that was hit, with `Retry-After` in seconds until the
 * caller may try again. WebSocket traffic is not counted here.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return Promise.resolve(true);
    return super.canActivate(context);
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const name = detail.key.split(':')[2] ?? 'default';
    const seconds = Math.max(1, detail.timeToBlockExpire);
    const window = Math.round(detail.ttl / 1000);
    throw new DomainError(
      'RATE_LIMITED',
      `rate limit exceeded: at most ${detail.limit} ${LIMITED[name] ?? name} per ${window} s; retry after ${seconds} s`,
      {},
      seconds,
    );
  }
}
