import type { IncomingMessage } from 'node:http';
import type { DestinationStream } from 'pino';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';

/** Where Fastify leaves the request id on the raw request, for pino-http to log the same id. */
export const REQUEST_ID = Symbol('pulse.requestId');
/** And the client's address as Fastify resolved it (X-Forwarded-For only from a trusted proxy, see TRUST_PROXY). */
export const CLIENT_ADDRESS = Symbol('pulse.clientAddress');
export type RequestWithId = IncomingMessage & { [REQUEST_ID]?: string; [CLIENT_ADDRESS]?: string };

/**
 * One JSON line per request (method, route, client address, status, time, request id), the
 * same id as the `X-Request-Id` header and the error body's `request_id`.
 * Credentials never reach the log.
 */
export function loggingParams(config: AppConfig, destination?: DestinationStream): Params {
  const options = {
    level: config.logLevel,
    genReqId: (req: IncomingMessage) => (req as RequestWithId)[REQUEST_ID] ?? 'unknown',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.query.token'], censor: '[redacted]' },
    serializers: {
      req: (req: { id: string; method: string; url: string; raw: RequestWithId }) => ({
        id: req.id,
        method: req.method,
        // The wallboard's token travels in its query string: never log it.
        url: req.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'),
        remoteAddress: req.raw[CLIENT_ADDRESS],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return {
    pinoHttp: destination ? [options, destination] : options,
    // Every path once. A wildcard Nest recognises as one makes Nest itself add
    // the paths outside the /api/v1 prefix; nestjs-pino's default adds them a
    // second time, which logs their requests twice.
    forRoutes: [{ path: '/{*splat}', method: RequestMethod.ALL }],
  };
}
