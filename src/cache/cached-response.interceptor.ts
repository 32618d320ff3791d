import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { CachedResult } from './cached-executor.service.js';

/**
 * Sends a CachedResult as it was stored: the JSON text untouched, `X-Cache`,
 * the strong `ETag`, and `304` to a GET whose `If-None-Match` matches.
 */
@Injectable()
export class CachedResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((result: unknown) => {
        if (!(result instanceof CachedResult)) return result;
        const request = context.switchToHttp().getRequest<FastifyRequest>();
        const headers = {
          'x-cache': result.cache,
          etag: result.etag,
          // Clients may keep a copy but must revalidate it: any write can change it.
          'cache-control': 'private, no-cache',
          vary: 'Authorization',
        };
        if (request.method === 'GET' && matches(request.headers['if-none-match'], result.etag)) {
          return new Response(null, { status: 304, headers });
        }
        return new Response(result.body, {
          status: 200,
          headers: {
            ...headers,
            'content-type': 'application/json; charset=utf-8',
            'content-length': String(Buffer.byteLength(result.body)),
          },
        });
      }),
    );
  }
}

/** RFC 9110 If-None-Match: a list of entity tags (weak ones compared weakly) or `*`. */
function matches(header: string | string[] | undefined, etag: string): boolean {
  if (typeof header !== 'string') return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
