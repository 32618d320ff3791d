/**
 * `npm run demo`: Pulse with nothing but Node. Embedded mode (PGlite in
 * .pulse-data/, the cache in the process), an organization seeded with 90
 * days of tickets the first time, and a simulator that keeps writing through
 * the service so the wallboard moves. Ctrl-C stops it all.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { run } from '../bootstrap.js';
import type { AppConfig } from '../config/app-config.js';
import type { TicketSimulator } from './simulator.js';

const ORGANIZATION_ID = 1;
const TOKEN_TTL_SECONDS = 30 * 86_400;

let simulator: TicketSimulator | undefined;

await run(
  {
    async start(app: NestFastifyApplication, config: AppConfig) {
      // Loaded only now, once the port and the data folder are known to be free (bootstrap.ts).
      const [
        { default: pg },
        { signToken },
        { TicketsService },
        { seedDemoOrganization, seededRatePerHour },
        simulation,
      ] = await Promise.all([
        import('pg'),
        import('../auth/token.service.js'),
        import('../tickets/tickets.service.js'),
        import('./demo-data.js'),
        import('./simulator.js'),
      ]);
      const history = { now: new Date(), tickets: config.demoTickets };
      const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
      try {
        const started = Date.now();
        const seeded = await seedDemoOrganization(pool, ORGANIZATION_ID, history, config.slaFirstResponseHours);
        if (seeded > 0)
          log(`seeded organization ${ORGANIZATION_ID} with ${seeded} tickets in ${Date.now() - started} ms`);
      } finally {
        await pool.end();
      }
      const seededRate = seededRatePerHour(history);
      simulator = new simulation.TicketSimulator(app.get(TicketsService, { strict: false }), {
        organizationId: ORGANIZATION_ID,
        intervalMs: config.demoIntervalMs,
        ticketsPerHour: (at) => seededRate(at) * config.demoSpeed,
      });
      simulator.start();

      const token = signToken(
        { sub: 'demo-admin', org_id: ORGANIZATION_ID, role: 'admin' },
        config.jwtSecret,
        TOKEN_TTL_SECONDS,
      );
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      const { port } = app.getHttpServer().address() as { port: number };
      const base = `http://${host}:${port}`;
      const rate = seededRate(new Date()) * config.demoSpeed;
      log(
        [
          '',
          `Pulse demo is running: organization ${ORGANIZATION_ID}; the simulator writes about ${rate.toFixed(1)} tickets an hour now ` +
            `(the seeded history's rhythm${config.demoSpeed === 1 ? '' : ` × ${config.demoSpeed}`}; DEMO_SPEED changes it).`,
          `  Wallboard  ${base}/wallboard?token=${token}`,
          `  API docs   ${base}/docs`,
          `  Try        curl -H "Authorization: Bearer ${token}" "${base}/api/v1/analytics/dashboard?period=7d"`,
          `The token above is an admin's. For a TV, a viewer token (30 days): npm run -s token -- --role viewer --ttl 2592000`,
          `  then open  ${base}/wallboard?token=<that token>&title=Support  (README.md, "Wallboard", lists the settings)`,
          config.host === '127.0.0.1'
            ? 'Listening on 127.0.0.1 only; HOST=0.0.0.0 opens it to your network (the TV).'
            : `Listening on ${config.host}.`,
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
  // It prints an admin token, so it listens on this machine only unless HOST says otherwise.
  { fixed: { PULSE_EMBEDDED: 'true' }, defaults: { LOG_LEVEL: 'warn', HOST: '127.0.0.1' } },
);

function log(text: string): void {
  process.stdout.write(`${text}\n`);
}
