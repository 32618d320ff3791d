import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerRequest } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../common/errors.js';
import { PRECOUNTED } from './rate-limiter.js';

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

  /** A request the cached-read script already counted is not counted twice. */
  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const request = props.context.switchToHttp().getRequest<FastifyRequest>();
    const counted = request[PRECOUNTED];
    if (props.throttler.name !== 'default' || !counted) return super.handleRequest(props);
    const { res } = this.getRequestResponse(props.context);
    if (!counted.allowed) {
      this.setResponseHeader(res, 'Retry-After', counted.retryAfterSeconds);
      throw rateLimited('default', props.limit, props.ttl, counted.retryAfterSeconds);
    }
    this.setResponseHeader(res, `${this.headerPrefix}-Limit`, props.limit);
    this.setResponseHeader(res, `${this.headerPrefix}-Remaining`, Math.max(0, props.limit - counted.count));
    this.setResponseHeader(res, `${this.headerPrefix}-Reset`, counted.retryAfterSeconds);
    return true;
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const name = detail.key.split(':').at(-1) ?? 'default';
    throw rateLimited(name, detail.limit, detail.ttl, detail.timeToBlockExpire);
  }
}
