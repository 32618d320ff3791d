import type { ErrorCode } from './errors.js';

interface MappedError {
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/** The fields of a PostgreSQL error that tell what failed (node-postgres's DatabaseError). */
interface PgErrorFields {
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
  routine?: unknown;
}

/** The driver's error: TypeORM wraps it (QueryFailedError.driverError); the fields are on either. */
function pgFields(error: unknown): PgErrorFields | null {
  if (typeof error !== 'object' || error === null) return null;
  const driverError = (error as { driverError?: unknown }).driverError;
  return (typeof driverError === 'object' && driverError !== null ? driverError : error) as PgErrorFields;
}

/** PostgreSQL's own text of a unique violation (errmsg in nbtinsert.c), in its English (C) messages. */
const DUPLICATE_KEY = /^duplicate key value violates unique constraint "(.+)"$/;

/**
 * The constraint (or unique index) that a unique violation names, or null
 * when `error` is not a unique violation. Three shapes reach the service:
 * - PostgreSQL: code 23505, the name in the error's `constraint` field.
 * - A Citus coordinator relaying a worker's error (a statement it routes to a
 *   shard): code 23505 kept, but only message, detail, hint and context are
 *   passed on (Citus's ReportResultError), so there is no `constraint` field;
 *   the message names the shard's copy of the index
 *   (`duplicate key value violates unique constraint "tickets_org_external_id_key_102025"`).
 * - A Citus coordinator that copies rows it computed itself into a shard (an
 *   `INSERT … SELECT` from `unnest`): the worker's message and detail come
 *   back without the code, as an internal error (XX000 from ReportCopyError
 *   in multi_copy.c). Recognised by that routine and PostgreSQL's own text
 *   alone, so that another error of that routine (a check constraint, say) is
 *   not taken for one; a worker whose lc_messages is not English gives
 *   PostgreSQL's text translated, and such a conflict is not recognised.
 * The name is returned as the error gives it: a shard's copy keeps its
 * `_<shard id>` suffix.
 */
export function uniqueViolationConstraint(error: unknown): string | null {
  const fields = pgFields(error);
  if (fields === null) return null;
  const { code, constraint, routine } = fields;
  const message = typeof fields.message === 'string' ? fields.message : '';
  if (code === '23505') {
    if (typeof constraint === 'string') return constraint;
    return /"([^"]+)"/.exec(message)?.[1] ?? null;
  }
  if (code === 'XX000' && routine === 'ReportCopyError') return DUPLICATE_KEY.exec(message)?.[1] ?? null;
  return null;
}

/**
 * Maps a PostgreSQL or driver failure to what the client should be told.
 * Faults of the database are 503 with a retry hint, never a bare 500.
 */
export function databaseErrorCode(error: unknown): MappedError | null {
  const fields = pgFields(error);
  if (fields === null) return null;
  const { code, message } = fields;
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
