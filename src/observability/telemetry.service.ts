import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus telemetry of one app instance (not the metric registry of metrics/). A registry of its own (not
 * prom-client's global one) so several instances in one process, as in the
 * tests, count separately.
 */
@Injectable()
export class Telemetry {
  readonly registry = new Registry();

  readonly computations = new Counter({
    name: 'pulse_analytics_computations_total',
    help: 'Analytics results computed from the database, by section',
    labelNames: ['section'] as const,
    registers: [this.registry],
  });

  readonly cacheResults = new Counter({
    name: 'pulse_cache_results_total',
    help: 'Cached-endpoint responses by section and X-Cache result',
    labelNames: ['section', 'result'] as const,
    registers: [this.registry],
  });

  readonly computationsInFlight = new Gauge({
    name: 'pulse_analytics_computations_in_flight',
    help: 'Analytics computations running against the database now, by section',
    labelNames: ['section'] as const,
    registers: [this.registry],
  });

  readonly computeSeconds = new Histogram({
    name: 'pulse_analytics_compute_seconds',
    help: 'Time to compute an analytics result from the database',
    labelNames: ['section'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly eventsEmitted = new Counter({
    name: 'pulse_domain_events_total',
    help: 'Ticket domain events emitted after commit, by name',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly httpSeconds = new Histogram({
    name: 'pulse_http_request_duration_seconds',
    help: 'HTTP request durations by method, route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly queryLatency = new Histogram({
    name: 'pulse_db_query_duration_seconds',
    help: 'Analytics query durations against PostgreSQL, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly sockets = new Gauge({
    name: 'pulse_socket_connections',
    help: 'Sockets connected to the /analytics namespace of this instance',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pulse_' });
  }
}
