import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERROR_STATUS, STATUS_CODE, type ErrorCode } from './errors.js';
import { databaseErrorCode } from './database-errors.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  code: ErrorCode;
  request_id: string;
  [detail: string]: unknown;
}

/**
 * The one place an error becomes a response: every error is JSON in the
 * contract's shape. A 5xx body is generic; its cause goes to the log under the
 * same request id the client sees.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { body, retryAfterSeconds } = toErrorBody(exception, String(request.id));
    if (body.code === 'INTERNAL_ERROR') {
      this.logger.error(
        { request_id: body.request_id, err: exception },
        exception instanceof Error ? exception.stack : String(exception),
      );
    } else if (body.statusCode >= 500) {
      // A fault of a dependency (timeout, database away): expected in operation, no stack needed.
      this.logger.warn(
        `${body.code} for request ${body.request_id}: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
    }
    if (reply.sent) return;
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    void reply.status(body.statusCode).type('application/json; charset=utf-8').send(body);
  }
}

export function toErrorBody(exception: unknown, requestId: string): { body: ErrorBody; retryAfterSeconds?: number } {
  const build = (
    code: ErrorCode,
    message: string | string[],
    details: Record<string, unknown> = {},
    status?: number,
  ) => {
    const statusCode = status ?? ERROR_STATUS[code];
    return {
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message,
      code,
      request_id: requestId,
      ...details,
    } satisfies ErrorBody;
  };

  if (exception instanceof DomainError) {
    return {
      body: build(exception.code, exception.messages, exception.details),
      retryAfterSeconds: exception.retryAfterSeconds,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status < 500) {
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: string | string[] }).message
          : exception.message;
      return { body: build(STATUS_CODE[status] ?? 'VALIDATION_FAILED', message, {}, status) };
    }
  }
  const database = databaseErrorCode(exception);
  if (database) {
    return { body: build(database.code, database.message), retryAfterSeconds: database.retryAfterSeconds };
  }
  return { body: build('INTERNAL_ERROR', 'Internal server error') };
}
