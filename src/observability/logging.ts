import type { DestinationStream } from 'pino';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';

/**
 * The application's logger (nestjs-pino's root pino logger, JSON lines).
 * Requests are logged by request-log.ts, one line each, not by pino-http's
 * middleware, which is left unmounted.
 */
export function loggingParams(config: AppConfig, destination?: DestinationStream): Params {
  const options = { level: config.logLevel };
  return { pinoHttp: destination ? [options, destination] : options, forRoutes: [] };
}
