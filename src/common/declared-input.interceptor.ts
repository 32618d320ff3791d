import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { invalid } from './errors.js';
import { declaredInput, type InputPart } from './route-inputs.js';

/**
 * Unknown query parameters and body properties are refused everywhere.
 * Handlers that take a DTO refuse them through validation; this covers the
 * rest: a handler with no `@Query()` refuses every query parameter
 * (`GET /tickets/:id?foo=1`), one with no `@Body()` every body property
 * (`DELETE /analytics/cache` with `{"foo": 1}`).
 *
 * An interceptor, not a guard: Nest runs every guard (authentication, roles,
 * rate limits) before any interceptor, so a caller without a valid token is
 * answered 401 whatever else is wrong with its request.
 */
@Injectable()
export class DeclaredInputInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const problems = [...undeclared(context, 'query', request.query), ...undeclared(context, 'body', request.body)];
      if (problems.length > 0) throw invalid(problems);
    }
    return next.handle();
  }
}

function undeclared(context: ExecutionContext, part: InputPart, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const declared = declaredInput(context.getClass(), context.getHandler().name, part);
  if (declared === 'whole') return [];
  if (typeof value !== 'object' || Array.isArray(value)) return [`this request takes no ${part}`];
  return Object.keys(value)
    .filter((name) => !declared.includes(name))
    .map((name) => `property ${name} should not exist`);
}
