import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { asksNoCache } from '../common/no-cache.decorator.js';
import { queryBoolean } from '../common/validation.js';

const FORCED_KEY = 'pulse:forced-recompute';
const EXPORT_KEY = 'pulse:export';
const reflector = new Reflector();

/** Marks an endpoint whose every call recomputes (refresh-cache): it counts against the forced limit. */
export const ForcedRecompute = () => SetMetadata(FORCED_KEY, true);

/** Marks an export endpoint: it counts against the export limit. */
export const ExportEndpoint = () => SetMetadata(EXPORT_KEY, true);

/**
 * Whether the request bypasses the cache: `use_cache=false` in the query or
 * body, `Cache-Control: no-cache`, or an endpoint marked @ForcedRecompute.
 * Read from the raw request because guards run before validation; a
 * malformed `use_cache` is counted as well, and then refused by validation.
 */
export function isForcedRecompute(context: ExecutionContext): boolean {
  if (reflector.getAllAndOverride<boolean>(FORCED_KEY, [context.getHandler(), context.getClass()])) return true;
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (asksNoCache(request.headers['cache-control'])) return true;
  const query = request.query as Record<string, unknown> | undefined;
  const body = request.body as Record<string, unknown> | undefined;
  return refusesCache(query?.use_cache) || refusesCache(isObject(body) ? body.use_cache : undefined);
}

export function isExport(context: ExecutionContext): boolean {
  return reflector.getAllAndOverride<boolean>(EXPORT_KEY, [context.getHandler(), context.getClass()]) === true;
}

/** Read as validation will read it; a value validation refuses counts too (it costs a request either way). */
function refusesCache(value: unknown): boolean {
  return value !== undefined && queryBoolean(value) !== true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
