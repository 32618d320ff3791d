import { applyDecorators } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ApiAccess, roleNote } from '../auth/auth.docs.js';
import { ApiErrors } from '../common/error-responses.docs.js';
import {
  CacheInvalidatedResponseDto,
  CacheRefreshResponseDto,
  CacheStatsResponseDto,
} from './dto/cache-management.response.dto.js';

export const InvalidateCacheDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'invalidateCache',
      summary: "Invalidate the organization's cached results",
      description: `${roleNote('admin')} Only the caller's organization is touched.`,
    }),
    ApiAccess('admin'),
    ApiOkResponse({ type: CacheInvalidatedResponseDto, description: 'Invalidated.' }),
    ApiErrors([400, 503], { 400: 'Also an unknown pattern.' }),
  );

export const RefreshCacheDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'refreshCache',
      summary: "Recompute the organization's common results in the background",
      description:
        `${roleNote('admin')} Dashboard and performance for 24h, 7d and 30d, and the daily series of every ` +
        'metric for 30d, all in UTC. Answers at once.',
    }),
    ApiAccess('admin'),
    ApiAcceptedResponse({ type: CacheRefreshResponseDto, description: 'The refresh started.' }),
    ApiErrors([400]),
  );

export const CacheStatsDocs = () =>
  applyDecorators(
    ApiOperation({
      operationId: 'getCacheStats',
      summary: "The organization's cache counters",
      description: roleNote('admin'),
    }),
    ApiAccess('admin'),
    ApiOkResponse({ type: CacheStatsResponseDto, description: 'The counters.' }),
    ApiErrors([400, 503], { 503: 'The cache is unreachable.' }),
  );
