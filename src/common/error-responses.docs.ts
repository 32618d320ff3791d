import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './dto/error.response.dto.js';

/** What each error status means wherever it is documented; a route adds its own specifics. */
const MEANING = {
  400: 'Invalid request: a bad or unknown parameter or body property. `message` names each one.',
  401: 'Missing, malformed or expired bearer token (or one whose claims are not valid).',
  403: "The token's role is too low for this operation.",
  404: 'Not found. A resource of another organization is answered the same way.',
  409: 'Conflict with stored data.',
  413: 'The request body is larger than the service accepts (16 MiB).',
  429:
    'Rate limited: the caller has used up its requests, or the organization its forced recomputes ' +
    '(`use_cache=false`, `Cache-Control: no-cache`, refresh-cache) or exports, for the window ' +
    '(RATE_LIMIT_* settings). Retry after the Retry-After seconds.',
  503: 'A dependency is unavailable or a query timed out; retry after the Retry-After seconds.',
} as const;

export type ErrorStatus = keyof typeof MEANING;

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
} as const;

/**
 * Documents error responses, all with the one `Error` body. `details` adds a
 * route's own cases to the status's general meaning.
 */
export function ApiErrors(statuses: ErrorStatus[], details: Partial<Record<ErrorStatus, string>> = {}) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: details[status] ? `${MEANING[status]} ${details[status]}` : MEANING[status],
        type: ErrorResponseDto,
        ...(status === 503 || status === 429 ? { headers: { ...RETRY_AFTER } } : {}),
      }),
    ),
  );
}
