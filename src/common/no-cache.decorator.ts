import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** True when the request carries `Cache-Control: no-cache`: the client wants a fresh computation. */
export const NoCacheHeader = createParamDecorator((_: unknown, context: ExecutionContext): boolean => {
  const header = context.switchToHttp().getRequest<FastifyRequest>().headers['cache-control'];
  return typeof header === 'string' && header.split(',').some((d) => d.trim().toLowerCase() === 'no-cache');
});
