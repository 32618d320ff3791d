/** Stable, machine-readable error codes; the HTTP status of each lives beside it. */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'BUCKET_LIMIT_EXCEEDED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'DUPLICATE_EXTERNAL_ID'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'INTERNAL_ERROR'
  | 'QUERY_TIMEOUT'
  | 'SERVICE_UNAVAILABLE';

export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  BUCKET_LIMIT_EXCEEDED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  DUPLICATE_EXTERNAL_ID: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  QUERY_TIMEOUT: 503,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<ErrorCode, number>;

/** The code a bare HTTP status stands for, when an error arrives without one. */
export const STATUS_CODE: Readonly<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  431: 'HEADERS_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * An error a service throws on purpose. `message` names what is wrong (one
 * string, or one per offending parameter); `details` adds fields to the body.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly messages: string | string[],
    readonly details: Record<string, unknown> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(Array.isArray(messages) ? messages.join('; ') : messages);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const invalid = (messages: string | string[]) => new DomainError('VALIDATION_FAILED', messages);
export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);
