import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { invalid } from './errors.js';

/** Deeper than any request of the API (a bulk body is three levels); class-transformer recurses per level. */
export const MAX_DEPTH = 32;

/**
 * Refuses, before any DTO is built, the input no handler can take: a string
 * or key holding a NUL character (PostgreSQL text cannot store it, and the
 * query would fail), a JSON body nested deeper than MAX_DEPTH (building
 * the DTO of a body nested thousands deep overflows the stack), and a key
 * that names a property of every object (`constructor`, `__proto__`,
 * `toString`...): no parameter of the API has such a name, and
 * class-transformer drops these keys silently instead of letting validation
 * refuse them as unknown. The walk is
 * iterative, so the check cannot overflow itself. An interceptor, so that
 * it runs after authentication (see DeclaredInputInterceptor).
 */
@Injectable()
export class SafeInputInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      for (const [part, value] of [
        ['path', request.params],
        ['query', request.query],
        ['body', request.body],
      ] as const) {
        const problem = inspect(value);
        if (problem) throw invalid(`${problem.path ? problem.path : part} ${problem.message}`);
      }
    }
    return next.handle();
  }
}

/**
 * Strings are checked where their object is walked, and only objects are
 * stacked with their paths: a bulk body of 10,000 items is 10,000 entries
 * and paths, not one per field.
 */
function inspect(root: unknown): { path: string; message: string } | null {
  if (typeof root === 'string')
    return root.includes('\0') ? { path: '', message: 'must not contain NUL characters' } : null;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  // The items of a bulk body repeat the same few keys: each is checked once.
  const safeKeys = new Set<string>();
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) return { path: '', message: `is nested more than ${MAX_DEPTH} levels deep` };
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const child: unknown = value[index];
        if (typeof child === 'string') {
          if (child.includes('\0'))
            return { path: join(path, String(index)), message: 'must not contain NUL characters' };
        } else if (typeof child === 'object' && child !== null) {
          stack.push({ value: child, path: join(path, String(index)), depth: depth + 1 });
        }
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (!safeKeys.has(key)) {
        if (key.includes('\0'))
          return { path: join(path, key).replaceAll('\0', '\\0'), message: 'must not contain NUL characters' };
        if (Object.hasOwn(Object.prototype, key))
          return { path: `property ${join(path, key)}`, message: 'should not exist' };
        safeKeys.add(key);
      }
      if (typeof child === 'string') {
        if (child.includes('\0')) return { path: join(path, key), message: 'must not contain NUL characters' };
      } else if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, path: join(path, key), depth: depth + 1 });
      }
    }
  }
  return null;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
