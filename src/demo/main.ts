/**
 * `npm run demo`: Pulse with nothing but Node. Embedded mode (PGlite in
 * .pulse-data/, the cache in the process), an organization seeded with 90
 * days of tickets the first time, and a simulator that keeps writing through
 * the service so the wallboard moves. Ctrl-C stops it all.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { signToken } from '../auth/token.service.js';
import { run } from '../bootstrap.js';
import type { AppConfig } from '../config/app-config.js';
import { TicketsService } from '../tickets/tickets.service.js';
import { seedDemoOrganization } from './demo-data.js';
import { TicketSimulator } from './simulator.js';

const ORGANIZATION_ID = 1;
const TOKEN_TTL_SECONDS = 30 * 86_400;

let simulator: TicketSimulator | undefined;

await run(
  {
    async start(app: NestFastifyApplication, config: AppConfig) {
      const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
      try {
        const started = Date.now();
        const seeded = await seedDemoOrganization(
          pool,
          ORGANIZATION_ID,
          { now: new Date(), tickets: config.demoTickets },
          config.slaFirstResponseHours,
        );
        if (seeded > 0)
          log(`seeded organization ${ORGANIZATION_ID} with ${seeded} tickets in ${Date.now() - started} ms`);
      } finally {
        await pool.end();
      }
      simulator = new TicketSimulator(app.get(TicketsService, { strict: false }), {
        organizationId: ORGANIZATION_ID,
        intervalMs: config.demoIntervalMs,
        ticketsPerTick: 0.5,
      });
      simulator.start();

      const token = signToken(
        { sub: 'demo-admin', org_id: ORGANIZATION_ID, role: 'admin' },
        config.jwtSecret,
        TOKEN_TTL_SECONDS,
      );
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      const base = `http://${host}:${config.port}`;
      log(
        [
          '',
          `Pulse demo is running: organization ${ORGANIZATION_ID}, the simulator writes every ${config.demoIntervalMs / 1000} s.`,
          `  Wallboard  ${base}/wallboard?token=${token}`,
          `  API docs   ${base}/docs`,
          `  Try        curl -H "Authorization: Bearer ${token}" "${base}/api/v1/analytics/dashboard?period=7d"`,
          `Data is kept in ${config.dataDir}/ (delete it to start over). Ctrl-C stops the demo.`,
          '',
        ].join('\n'),
      );
    },
    async stop() {
      await simulator?.stop();
    },
  },
  // Chosen here, explicitly: `npm run demo` is embedded mode. The request log
  // would drown the links printed below, so it is quiet unless LOG_LEVEL says otherwise.
  { fixed: { PULSE_EMBEDDED: 'true' }, defaults: { LOG_LEVEL: 'warn' } },
);

function log(text: string): void {
  process.stdout.write(`${text}\n`);
}
