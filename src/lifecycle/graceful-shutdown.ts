import { Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { DomainError } from '../common/errors.js';
import { toErrorBody } from '../common/http-exception.filter.js';
import { AppConfig } from '../config/app-config.js';

/**
 * The drain on shutdown (SIGTERM, SIGINT or `app.close()`). Nest then runs,
 * in order: module destroy hooks (here: stop taking requests), the before-
 * shutdown hooks (sockets are sent away, /health says shutting_down), closing
 * the HTTP server (it stops listening and waits for the requests in flight),
 * and the shutdown hooks (the pools close). Waiting has a bound: requests
 * still running after SHUTDOWN_TIMEOUT_MS lose their connections, so a stuck
 * download cannot keep a replaced instance alive.
 */
@Injectable()
export class GracefulShutdown implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private timer?: NodeJS.Timeout;
  private started?: number;

  constructor(
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** True from the first shutdown step on: new requests get 503 and are told to go elsewhere. */
  get draining(): boolean {
    return this.started !== undefined;
  }

  /** The draining behaviour of the HTTP server, installed once when the app is built. */
  attach(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', (request, reply, done) => {
      if (!this.draining) return done();
      // Sent elsewhere: the connection closes, so the client's next attempt reaches another instance.
      const { body } = toErrorBody(
        new DomainError('SERVICE_UNAVAILABLE', 'this instance is shutting down; retry the request'),
        request.id,
      );
      void reply.code(503).header('connection', 'close').header('retry-after', '1').send(body);
    });
    fastify.addHook('onSend', (_request, reply, _payload, done) => {
      // A request that was in flight when draining began closes its keep-alive
      // connection once answered, so the server can finish closing.
      if (this.draining) void reply.header('connection', 'close');
      done();
    });
  }

  onModuleDestroy(): void {
    this.started = Date.now();
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    this.logger.log(`draining: waiting up to ${this.config.shutdownTimeoutMs} ms for requests in flight`);
    this.timer = setTimeout(() => {
      this.logger.warn(`requests still in flight after ${this.config.shutdownTimeoutMs} ms: closing their connections`);
      server?.closeAllConnections();
    }, this.config.shutdownTimeoutMs);
    this.timer.unref();
  }

  onApplicationShutdown(signal?: string): void {
    clearTimeout(this.timer);
    this.logger.log(`stopped${signal ? ` on ${signal}` : ''} after ${Date.now() - (this.started ?? Date.now())} ms`);
  }
}
