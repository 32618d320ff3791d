import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsRepository } from '../../src/analytics/analytics.repository.js';
import { queueCutoffs } from '../../src/analytics/sla-queue.js';
import { DEFAULT_SLA_TARGETS } from '../../src/config/app-config.js';
import { compileBacklog } from '../../src/metrics/query-compiler.js';
import { compileQueue } from '../../src/metrics/queue.compiler.js';
import type { CompiledQuery } from '../../src/metrics/sql-params.js';
import { TICKET_CHANGES_TABLE } from '../../src/tickets/events/tickets-writing.event.js';
import type { TicketState } from '../../src/tickets/ticket-rules.js';
import type { Ticket } from '../../src/tickets/ticket.entity.js';
import { TicketsRepository, type TicketRow } from '../../src/tickets/tickets.repository.js';
import { Api } from '../support/http.js';
import { buildTicket } from '../support/factories.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { CITUS } from '../support/citus.js';
import { onTicketMix } from '../support/database.js';

const YEAR = { start: new Date('2025-01-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z') };
const SHOW_MODE: CompiledQuery = { text: 'SHOW plan_cache_mode', values: [] };

/** The plan PostgreSQL keeps for a prepared statement once it goes generic (`$n` where values would be). */
async function genericPlan(db: pg.Client, { text, values }: CompiledQuery): Promise<string> {
  await db.query('SET plan_cache_mode = force_generic_plan');
  await db.query('DEALLOCATE ALL');
  await db.query(`PREPARE probe AS ${text}`);
  const args = values.map((v) => (v instanceof Date ? `'${v.toISOString()}'` : `'${String(v)}'`));
  const { rows } = await db.query(`EXPLAIN EXECUTE probe${args.length ? `(${args.join(', ')})` : ''}`);
  return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
}

describe('prepared analytics statements', () => {
  let server: TestApp;
  let analytics: AnalyticsRepository;

  beforeAll(async () => {
    server = await startApp({ ANALYTICS_PREPARED_STATEMENTS: '8' });
    analytics = server.app.get(AnalyticsRepository);
  });
  afterAll(() => server.close());

  it.skipIf(CITUS)('runs a rollup report as a named statement with a generic plan, reused', async () => {
    const organizationId = newOrganizationId();
    const api = new Api(server.url, tokenFor(organizationId, 'agent'));
    for (const day of ['2025-03-01', '2025-03-02', '2025-07-14']) {
      await api.post('/api/v1/tickets', buildTicket({ created_at: `${day}T10:00:00Z` }));
    }
    const query = { organizationId, metric: 'ticket_count' as const, filters: {}, timezone: 'UTC', ...YEAR };
    const { first, second, prepared, mode } = await analytics.snapshot(async (reader) => ({
      first: await reader.series({ ...query, granularity: 'monthly' }),
      second: await reader.series({ ...query, granularity: 'monthly' }),
      // Not reusable: the transaction switches to plan_cache_mode auto for it.
      prepared: await reader.run<{ name: string; generic_plans: number; custom_plans: number }>({
        text: `SELECT name, generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name LIKE 'pulse\\_%'`,
        values: [],
      }),
      mode: await reader.run<{ plan_cache_mode: string }>(SHOW_MODE),
    }));
    expect(second).toEqual(first);
    expect(first.filter((b) => b.count > 0).map((b) => [b.bucket.toISOString(), b.count])).toEqual([
      ['2025-03-01T00:00:00.000Z', 2],
      ['2025-07-01T00:00:00.000Z', 1],
    ]);
    // The same text both times: one statement, planned generically, its plan used by both reads.
    const report = prepared.filter((p) => p.generic_plans >= 2);
    expect(report).toHaveLength(1);
    expect(report[0]!.custom_plans).toBe(0);
    expect(mode).toEqual([{ plan_cache_mode: 'auto' }]);
  });

  it.skipIf(CITUS)('plans other statements for their values, in a snapshot and outside one', async () => {
    expect(await analytics.run(SHOW_MODE)).toEqual([{ plan_cache_mode: 'auto' }]);
    // A reusable statement runs in the pool's session mode.
    expect(await analytics.run({ ...SHOW_MODE, reusable: true })).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
    const modes = await analytics.snapshot(async (reader) => [
      await reader.run({ ...SHOW_MODE, reusable: true }),
      await reader.run(SHOW_MODE),
      await reader.run({ ...SHOW_MODE, reusable: true }),
    ]);
    expect(modes.flat().map((m) => (m as { plan_cache_mode: string }).plan_cache_mode)).toEqual([
      'force_generic_plan',
      'auto',
      'force_generic_plan',
    ]);
  });

  it.runIf(CITUS)('plans every statement for its values on Citus, which cannot distribute a generic plan', async () => {
    expect(await analytics.run({ ...SHOW_MODE, reusable: true })).toEqual([{ plan_cache_mode: 'auto' }]);
    const prepared = await analytics.snapshot((reader) =>
      reader.run({
        text: `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'pulse\\_%'`,
        values: [],
      }),
    );
    expect(prepared).toEqual([{ n: 0 }]);
  });

  it('keeps answering right once more shapes are asked than it names', async () => {
    const organizationId = newOrganizationId();
    const api = new Api(server.url, tokenFor(organizationId, 'agent'));
    await api.post('/api/v1/tickets', buildTicket({ created_at: '2025-05-05T05:05:00Z', priority: 'high' }));
    const base = { organizationId, metric: 'ticket_count' as const, timezone: 'UTC', ...YEAR };
    // More distinct texts than the 8 this app names: every granularity, with and without a filter.
    const granularities = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
    for (const granularity of granularities) {
      for (const [filters, expected] of [
        [{}, 1],
        [{ priority: ['high'] }, 1],
        [{ priority: ['low'] }, 0],
      ] as const) {
        const buckets = await analytics.series({ ...base, granularity, filters });
        const total = buckets.reduce((n, b) => n + b.count, 0);
        expect(total, `${granularity} ${JSON.stringify(filters)}`).toBe(expected);
      }
    }
  });

  it.skipIf(CITUS)(
    'gives the queue and the backlog generic plans that still read their indexes',
    { timeout: 120_000 },
    () =>
      // 50,000 tickets of 31 organizations, most resolved: the partial indexes hold a small part of the table.
      onTicketMix('pulse_test_generic_plans', { count: 50_000, organizations: 31, resolved: 8 }, async (db) => {
        const queue = await genericPlan(db, compileQueue(7, queueCutoffs(new Date(), DEFAULT_SLA_TARGETS)));
        expect(queue).toMatch(/\$1/);
        expect(queue).toMatch(/Index Only Scan using tickets_org_unanswered_idx on tickets/);
        expect(queue).not.toMatch(/Seq Scan on tickets/);
        const backlog = await genericPlan(db, compileBacklog(7));
        expect(backlog).toMatch(/\$1/);
        expect(backlog).toMatch(/Index Scan using ticket_rollups_pkey on ticket_rollups/);
        expect(backlog).not.toMatch(/Seq Scan/);
      }),
  );
});

describe('prepared ticket writes', () => {
  const NOW = new Date('2025-06-01T12:00:00Z');
  const state = (i: number): TicketState => ({
    external_id: null,
    status: 'open',
    priority: (['low', 'medium', 'high', 'urgent'] as const)[i % 4],
    channel: 'chat',
    category: 'billing',
    assignee_id: null,
    sentiment_score: 0.3,
    created_at: new Date(NOW.getTime() - i * 60_000),
    first_response_at: null,
    resolved_at: null,
  });
  const newRow = (i: number): TicketRow => ({ id: randomUUID(), state: state(i), before: null });
  const manyRows = (n: number): TicketRow[] => Array.from({ length: n }, (_, i) => newRow(i));

  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it.skipIf(CITUS)(
    'run a small write as a named statement with its generic plan, a large one planned for its rows',
    async () => {
      const tickets = server.app.get(TicketsRepository);
      const organizationId = newOrganizationId();
      const rolledBack = new Error('rolled back on purpose');
      let prepared: { name: string; generic_plans: number; custom_plans: number }[] = [];
      // Rolled back: the rows are written without the rollups' listener, which only a whole write runs.
      await tickets
        .transaction(async (manager) => {
          await tickets.write(manager, organizationId, [newRow(0)], NOW, { returning: true });
          await tickets.write(manager, organizationId, [newRow(1)], NOW, { returning: true });
          await tickets.write(manager, organizationId, manyRows(101), NOW, { returning: true });
          prepared = await manager.query(
            `SELECT name, generic_plans::int, custom_plans::int FROM pg_prepared_statements
           WHERE name LIKE 'pulse\\_ticket\\_write%'`,
          );
          throw rolledBack;
        })
        .catch((error: unknown) => {
          if (error !== rolledBack) throw error;
        });
      // One name for both small writes (the connection may have run it before), no custom plan; the
      // 101 tickets ran unnamed.
      expect(prepared).toHaveLength(1);
      expect(prepared[0]).toMatchObject({ name: 'pulse_ticket_write_returning', custom_plans: 0 });
      expect(prepared[0]!.generic_plans).toBeGreaterThanOrEqual(2);
    },
  );

  it('are all unnamed, planned for their values, when ANALYTICS_PREPARED_STATEMENTS is 0 (as behind PgBouncer)', async () => {
    const off = await startApp({ ANALYTICS_PREPARED_STATEMENTS: '0' });
    try {
      const tickets = off.app.get(TicketsRepository);
      expect(tickets.prepareWrite(newOrganizationId(), [newRow(0)], NOW, { returning: true }).name).toBeUndefined();
      const mode = await tickets.transaction((manager) => manager.query('SHOW plan_cache_mode'));
      expect(mode).toEqual([{ plan_cache_mode: 'auto' }]);
    } finally {
      await off.close();
    }
    // The default: on PostgreSQL a write's transaction runs its named statements' generic plans.
    const mode = await server.app
      .get(TicketsRepository)
      .transaction((manager) => manager.query('SHOW plan_cache_mode'));
    expect(mode).toEqual([{ plan_cache_mode: CITUS ? 'auto' : 'force_generic_plan' }]);
  });

  it.skipIf(CITUS)(
    'find the tickets an update replaces by primary key in their generic plan',
    { timeout: 120_000 },
    () =>
      onTicketMix('pulse_test_generic_writes', { count: 50_000, organizations: 31, resolved: 8 }, async (db) => {
        await db.query(`CREATE TEMPORARY TABLE ${TICKET_CHANGES_TABLE} (sign smallint NOT NULL, LIKE tickets)`);
        const { rows } = await db.query<Ticket>('SELECT * FROM tickets WHERE organization_id = 7 LIMIT 1');
        const repository = new TicketsRepository(null as never, null as never, true);
        const update = repository.prepareWrite(7, [{ id: rows[0]!.id, state: state(0), before: rows[0]! }], NOW, {
          returning: true,
        });
        expect(update.name).toBeDefined();
        const plan = await genericPlan(db, update);
        expect(plan).toMatch(/\$1/);
        expect(plan).toMatch(/Index Scan using tickets_pkey on tickets t/);
        expect(plan).not.toMatch(/Seq Scan on tickets /);
        // Larger writes are planned for their rows, unnamed.
        const large = repository.prepareWrite(7, manyRows(101), NOW);
        expect(large.name).toBeUndefined();
      }),
  );
});
