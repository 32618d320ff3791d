import { applyDecorators, type Type } from '@nestjs/common';
import { ApiHeader, ApiNotModifiedResponse, ApiOkResponse } from '@nestjs/swagger';
import type { CacheOutcome } from './cached-executor.service.js';

const OUTCOMES = ['HIT', 'MISS', 'BYPASS', 'ERROR'] as const satisfies readonly CacheOutcome[];

/** The headers CachedResponseInterceptor sets, on a 200 and on a 304 alike. */
const CACHE_HEADERS = {
  'X-Cache': {
    description:
      'HIT: served from the cache. MISS: computed, now cached. BYPASS: computed because the client asked. ' +
      'ERROR: the cache was unreachable; computed from the database.',
    schema: { type: 'string', enum: [...OUTCOMES] },
  },
  ETag: {
    description: 'Strong entity tag of the body; send it back in If-None-Match.',
    schema: { type: 'string' },
  },
  'Cache-Control': { description: 'Clients may keep the body but must revalidate it.', schema: { type: 'string' } },
};

/**
 * Documents a result served through the cache: its 200 body and headers, the
 * request's `Cache-Control: no-cache`, and for a GET the `If-None-Match` → 304.
 */
export function ApiCachedResponse(type: Type, options: { get: boolean }) {
  return applyDecorators(
    ApiHeader({
      name: 'Cache-Control',
      required: false,
      description: '`no-cache` skips the cached copy, as use_cache=false does.',
      schema: { type: 'string', example: 'no-cache' },
    }),
    ApiOkResponse({ type, description: 'The result.', headers: { ...CACHE_HEADERS } }),
    ...(options.get
      ? [
          ApiHeader({
            name: 'If-None-Match',
            required: false,
            description: 'The ETag of a copy the client holds.',
            schema: { type: 'string' },
          }),
          ApiNotModifiedResponse({
            description: 'The ETag in If-None-Match still matches: no body.',
            headers: { ...CACHE_HEADERS },
          }),
        ]
      : []),
  );
}
