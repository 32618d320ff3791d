import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { asksNoCache } from '../common/no-cache.decorator.js';
import { CachedResult } from './cached-executor.service.js';
import { CachedReads } from './cached-reads.js';
import { cachedHeaders, matchesEtag } from './cached-response.headers.js';

/**
 * Sends a CachedResult as it was stored: the JSON text untouched, `X-Cache`,
 * the strong `ETag`, and `304` to a GET whose `If-None-Match` matches. A GET
 * whose result is in the cache is remembered for the hot path (CachedReads).
 */
@Injectable()
export class CachedResponseInterceptor implements NestInterceptor {
  constructor(private readonly reads: CachedReads) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((result: unknown) => {
        if (!(result instanceof CachedResult)) return result;
        const http = context.switchToHttp();
        const request = http.getRequest<FastifyRequest>();
        const reply = http.getResponse<FastifyReply>();
        if (request.method === 'GET' && result.address) this.reads.remember(request.url, result.address);
        if (request.method === 'GET' && result.again) {
          this.reads.rememberForced(request.url, asksNoCache(request.headers['cache-control']), result.again);
        }
        const headers = cachedHeaders(result.cache, result.etag);
        if (request.method === 'GET' && matchesEtag(request.headers['if-none-match'], result.etag)) {
          return new Response(null, { status: 304, headers });
        }
        // The stored text as it is: Fastify sends a string body without serializing it again.
        void reply.headers(headers).type('application/json; charset=utf-8');
        return result.body;
      }),
    );
  }
}
