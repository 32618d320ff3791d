import type { CacheOutcome } from './cached-executor.service.js';

/** The headers of every cached-endpoint response. */
export function cachedHeaders(cache: CacheOutcome, etag: string): Record<string, string> {
  return {
    'x-cache': cache,
    etag,
    // Clients may keep a copy but must revalidate it: any write can change it.
    'cache-control': 'private, no-cache',
    vary: 'Authorization',
  };
}

/** RFC 9110 If-None-Match: a list of entity tags (weak ones compared weakly) or `*`. */
export function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (typeof header !== 'string') return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
