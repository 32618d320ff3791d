import type { ErrorCode } from './errors.js';

interface MappedError {
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * Maps a PostgreSQL or driver failure to what the client should be told.
 * Faults of the database are 503 with a retry hint, never a bare 500.
 */
export function databaseErrorCode(error: unknown): MappedError | null {
  if (typeof error !== 'object' || error === null) return null;
  // TypeORM wraps the driver's error; the PostgreSQL code is on either.
  const driverError = (error as { driverError?: unknown }).driverError;
  const { code, message } = (typeof driverError === 'object' && driverError !== null ? driverError : error) as {
    code?: unknown;
    message?: unknown;
  };
  const text = typeof message === 'string' ? message : '';
  // invalid_parameter_value: a zone the runtime knows but this PostgreSQL does not
  if (code === '22023' && /time zone/i.test(text)) {
    return { code: 'VALIDATION_FAILED', message: 'timezone is not known to the database; use another IANA name' };
  }
  // query_canceled: statement_timeout ran out
  if (code === '57014') {
    return {
      code: 'QUERY_TIMEOUT',
      message: 'The query took too long and was cancelled; try again shortly',
      retryAfterSeconds: 5,
    };
  }
  // lock_not_available: lock_timeout ran out (a write waited on a lock held elsewhere); its transaction rolled back
  if (code === '55P03') {
    return {
      code: 'QUERY_TIMEOUT',
      message: 'The write waited too long for a lock and was cancelled; nothing was written; try again shortly',
      retryAfterSeconds: 5,
    };
  }
  // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
  if (
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    (typeof code === 'string' && CONNECTION_ERRORS.has(code))
  ) {
    return {
      code: 'SERVICE_UNAVAILABLE',
      message: 'The database is unavailable; try again shortly',
      retryAfterSeconds: 5,
    };
  }
  if (/timeout exceeded when trying to connect|Connection terminated|connection timeout/i.test(text)) {
    return {
      code: 'SERVICE_UNAVAILABLE',
      message: 'The database is unavailable; try again shortly',
      retryAfterSeconds: 5,
    };
  }
  return null;
}
