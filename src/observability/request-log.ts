import type { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';

const asIs = <T>(value: T): T => value;

/**
 * One JSON line per request, written when its response is done: method, URL
 * (the wallboard's `?token=` redacted), client address, status, duration and
 * the id of `X-Request-Id`. A Fastify hook writing an object it has already
 * shaped, instead of pino-http as framework middleware (a child logger,
 * serializers and request-scoped storage per request): it was a fifth of the
 * CPU of a cached read. Headers, and so credentials, are never logged.
 */
export function attachRequestLog(fastify: FastifyInstance): void {
  const log = PinoLogger.root.child({}, { serializers: { req: asIs, res: asIs } });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (log.isLevelEnabled('info')) {
      log.info(
        {
          req: {
            id: request.id,
            method: request.method,
            url: request.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'),
            // The connection's address, or the client's behind a proxy that TRUST_PROXY names.
            remoteAddress: request.ip,
          },
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime),
        },
        'request completed',
      );
    }
    done();
  });
}
