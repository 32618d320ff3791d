import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module.js';
import { CachedReads } from './cache/cached-reads.js';
import { DomainError } from './common/errors.js';
import { toErrorBody } from './common/http-exception.filter.js';
import { GracefulShutdown } from './lifecycle/graceful-shutdown.js';
import { attachRequestLog } from './observability/request-log.js';
import { Telemetry } from './observability/telemetry.service.js';
import type { AppConfig } from './config/app-config.js';
import { securityHeaders } from './common/security-headers.js';
import { setupOpenApi } from './openapi.js';
import { RedisIoAdapter } from './realtime/redis-io.adapter.js';

/** Bulk bodies of 10,000 tickets run to a few megabytes. */
const BODY_LIMIT = 16 * 1024 * 1024;
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request Node could not parse (most often a head over its 16 KiB limit):
 * answered on the raw socket, as Fastify's default does, in the API's shape.
 */
function refuseMalformedRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const id = randomUUID();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const { body } = toErrorBody(
    tooLarge
      ? new DomainError('HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB')
      : new DomainError('VALIDATION_FAILED', 'the request is not valid HTTP'),
    id,
  );
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

/**
 * TRUST_PROXY as Fastify takes it. Fastify refuses a bare hop count (it
 * trusts nothing then); the count becomes Express's rule instead: the
 * nearest `hops` addresses of the chain are proxies.
 */
function trustProxyOption(
  trust: AppConfig['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

/** Builds the application exactly as `main.ts` runs it; tests use it too. */
export async function createApp(
  config: AppConfig,
  logDestination?: DestinationStream,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // Requests that arrive while draining get the API's own 503 (below), not Fastify's.
    return503OnClosing: false,
    // What the router and Node's parser refuse before any hook runs still gets the API's error shape.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URI_TOO_LONG' : 'VALIDATION_FAILED';
      const message =
        code === 'URI_TOO_LONG'
          ? 'a path segment is longer than 100 characters'
          : 'the URL is not validly percent-encoded';
      const { body } = toErrorBody(new DomainError(code, message), request.id);
      void reply.code(body.statusCode).header('x-request-id', request.id).send(body);
    },
    clientErrorHandler: refuseMalformedRequest,
    // Off unless configured: otherwise any client could pick its address (and its rate-limit key) with X-Forwarded-For.
    trustProxy: trustProxyOption(config.trustProxy),
    // A client's X-Request-Id is kept when it is a plain token, so it cannot forge log lines.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Fastify's JSON parser (with its prototype-poisoning guards), except that an
  // empty body is no body: many clients send Content-Type: application/json
  // on every request, DELETE and bodiless POSTs included.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (request, body, done) => (body === '' ? done(null, undefined) : parseJson(request, body as string, done)),
  );
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logDestination), adapter, {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  attachRequestLog(fastify);
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
      { path: 'wallboard', method: RequestMethod.GET },
      { path: 'wallboard/:asset', method: RequestMethod.GET },
    ],
  });
  // Security headers on every response (common/security-headers.ts).
  const security = securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(request.protocol === 'https' ? security.secure : security.plain);
    done();
  });
  app.enableCors({ origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false, credentials: false });
  setupOpenApi(app);
  app.useWebSocketAdapter(new RedisIoAdapter(app, config));
  app.get(GracefulShutdown).attach(fastify);
  // Cached reads that hit are answered here, before the framework's pipeline (cache/cached-reads.ts).
  fastify.addHook('preHandler', app.get(CachedReads).hook);
  const telemetry = app.get(Telemetry);
  fastify.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL: one series per endpoint, whatever ids it is called with.
    const route = request.routeOptions.url ?? 'unmatched';
    telemetry.httpSeconds.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  return app;
}
