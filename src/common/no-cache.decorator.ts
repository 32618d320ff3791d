import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Whether a `Cache-Control` header value asks for a fresh computation (`no-cache`). */
export function asksNoCache(header: string | string[] | undefined): boolean {
  return typeof header === 'string' && header.split(',').some((d) => d.trim().toLowerCase() === 'no-cache');
}

/** True when the request carries `Cache-Control: no-cache`: the client wants a fresh computation. */
export const NoCacheHeader = createParamDecorator((_: unknown, context: ExecutionContext): boolean =>
  asksNoCache(context.switchToHttp().getRequest<FastifyRequest>().headers['cache-control']),
);
