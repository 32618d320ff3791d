import { ticketBody } from '../support/ticket-body.js';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  backfillRollups,
  CreateTicketRollups1764000000010,
} from '../../migrations/1764000000010-CreateTicketRollups.js';
import { AddPriorityRollup1764000000050 } from '../../migrations/1764000000050-AddPriorityRollup.js';
import { ANALYTICS_CONNECTION, buildDataSourceOptions } from '../../src/database/database-options.js';
import { generateDemoTickets, insertDemoTickets } from '../../src/demo/demo-data.js';
import {
  backfillSketches,
  CreateTicketSketches1764000000020,
} from '../../migrations/1764000000020-CreateTicketSketches.js';
import { RollupsListener } from '../../src/rollups/rollups.listener.js';
import { RollupsRepository } from '../../src/rollups/rollups.repository.js';
import { SketchesRepository } from '../../src/rollups/sketches.repository.js';
import { TICKETS_WRITING, type TicketsWritingEvent } from '../../src/tickets/events/tickets-writing.event.js';
import { Api } from '../support/http.js';
import { buildTicket } from '../support/factories.js';
import { newOrganizationId, startApp, testConfig, testDatabaseUrl, tokenFor, type TestApp } from '../support/app.js';
import { CITUS } from '../support/citus.js';
import { migratedDatabase, sideDatabaseUrl } from '../support/database.js';

/**
 * The rollups and sketches kept in the write's transaction
 * (src/metrics/README.md) against the raw tickets, by `RollupsRepository.verify`
 * and `SketchesRepository.verify` (what `npm run rollups:verify` runs): after
 * random write sequences, under concurrent writers, after failed writes, and
 * with a row corrupted on purpose.
 */

const HOUR = 3_600_000;
const STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'] as const;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
const CHANNELS = ['email', 'chat', 'phone'] as const;
const CATEGORIES = ['general', 'billing', 'technical'] as const;
/** Around Europe/Berlin's spring-forward and a quarter-hour zone's midnight, to the millisecond. */
const ANCHORS = [Date.UTC(2025, 2, 30, 1), Date.UTC(2025, 2, 29, 18, 15), Date.UTC(2025, 2, 31)];

const instant = fc
  .tuple(fc.constantFrom(...ANCHORS), fc.integer({ min: -30 * HOUR, max: 30 * HOUR }))
  .map(([anchor, delta]) => anchor + delta);
const fields = fc.record(
  {
    status: fc.constantFrom(...STATUSES),
    priority: fc.constantFrom(...PRIORITIES),
    channel: fc.constantFrom(...CHANNELS),
    category: fc.constantFrom(...CATEGORIES),
    assignee_id: fc.constantFrom('agent-1', 'agent-2', null),
    sentiment_score: fc.oneof(fc.constant(null), fc.double({ min: -1, max: 1, noNaN: true }), fc.constant(0.2)),
    created_at: instant,
    first_response_after: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 50 * HOUR })),
    resolved_after: fc.integer({ min: 0, max: 80 * HOUR }),
  },
  { requiredKeys: [] },
);
type Fields = typeof fields extends fc.Arbitrary<infer T> ? T : never;

const body = (f: Fields, base: { created_at: number } | null) => ticketBody(f, base?.created_at ?? null, ANCHORS[0]!);

const operation = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), fields }),
  fc.record({ kind: fc.constant('patch' as const), target: fc.nat(), fields }),
  fc.record({
    kind: fc.constant('bulk' as const),
    items: fc.array(fc.record({ target: fc.option(fc.nat(), { nil: undefined }), fields }), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
);

type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

describe('rollups', () => {
  let server: TestApp;
  let rollups: RollupsRepository;
  let sketches: SketchesRepository;
  let db: pg.Pool;

  beforeAll(async () => {
    server = await startApp();
    rollups = server.app.get(RollupsRepository);
    sketches = server.app.get(SketchesRepository);
    db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
  });
  afterAll(async () => {
    await db.end();
    await server.close();
  });

  const storedRows = async (org: number) =>
    (
      await db.query(
        `SELECT rollup, metric, grain, bucket, status, priority, channel, category, sentiment_band, count::text, sum::text
         FROM ticket_rollups WHERE organization_id = $1 AND (count <> 0 OR sum <> 0) ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
        [org],
      )
    ).rows;
  const storedSketches = async (org: number) =>
    (
      await db.query(
        `SELECT grain, bucket, metric, bin, count::text, within_target::text FROM ticket_sketches
         WHERE organization_id = $1 AND (count <> 0 OR within_target <> 0) ORDER BY 1, 2, 3, 4`,
        [org],
      )
    ).rows;

  /** Applies the operations through the API; returns the tickets written, by external_id. */
  async function play(api: Api, org: number, ops: readonly Operation[]) {
    const tickets: { id: string; external_id: string; created_at: number }[] = [];
    let next = 0;
    const remember = (t: { id: string; external_id: string; created_at: string }) => {
      const known = tickets.find((k) => k.id === t.id);
      if (known) known.created_at = Date.parse(t.created_at);
      else tickets.push({ id: t.id, external_id: t.external_id, created_at: Date.parse(t.created_at) });
    };
    for (const op of ops) {
      if (op.kind === 'create' || (op.kind === 'patch' && tickets.length === 0)) {
        const res = await api.post('/api/v1/tickets', { ...body(op.fields, null), external_id: `${org}-${next++}` });
        expect([201, 400], res.text).toContain(res.status);
        if (res.status === 201) remember(res.body);
      } else if (op.kind === 'patch') {
        const target = tickets[op.target % tickets.length]!;
        const res = await api.patch(`/api/v1/tickets/${target.id}`, body(op.fields, target));
        expect([200, 400], res.text).toContain(res.status);
        if (res.status === 200) remember(res.body);
      } else {
        const items = op.items.map((item, i) => {
          const target =
            item.target === undefined || tickets.length === 0 ? null : tickets[item.target % tickets.length]!;
          // Two items of one batch may not share an external_id: the later ones become new tickets.
          const repeated =
            target !== null &&
            op.items.slice(0, i).some((o) => o.target !== undefined && tickets[o.target % tickets.length] === target);
          return target && !repeated
            ? { ...body(item.fields, target), external_id: target.external_id }
            : { ...body(item.fields, null), external_id: `${org}-${next++}` };
        });
        const res = await api.post('/api/v1/tickets/bulk', { tickets: items });
        expect([200, 400], res.text).toContain(res.status);
      }
    }
    const listed = await api.get('/api/v1/tickets?limit=500');
    for (const t of listed.body.items) remember(t);
    return tickets;
  }

  it('match the raw tickets after random creates, PATCHes and bulk upserts', async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 12 }), async (ops) => {
        const org = newOrganizationId();
        await play(new Api(server.url, tokenFor(org, 'agent')), org, ops);
        expect(await rollups.verify(org)).toBeNull();
        expect(await sketches.verify(org)).toBeNull();
        cases++;
      }),
      { numRuns: 25 },
    );
    expect(cases).toBe(25);
  });

  it('are kept by prepared statements for small writes on PostgreSQL and planned for bulk batches, alike', async () => {
    const org = newOrganizationId();
    const api = new Api(server.url, tokenFor(org, 'agent'));
    const listener = server.app.get(RollupsListener);
    const before = listener.inspect();
    for (let i = 0; i < 3; i++) expect((await api.post('/api/v1/tickets', buildTicket())).status).toBe(201);
    const bulk = await api.post('/api/v1/tickets/bulk', {
      tickets: Array.from({ length: 300 }, (_, i) => buildTicket({ external_id: `b-${i}` })),
    });
    expect(bulk.status, bulk.text).toBe(200);
    const after = listener.inspect();
    // Prepared on PostgreSQL; Citus cannot plan the sketches' parameter, so there every write is planned.
    expect(after.prepared - before.prepared).toBe(CITUS ? 0 : 3);
    expect(after.planned - before.planned).toBe(CITUS ? 4 : 1);
    expect(await rollups.verify(org)).toBeNull();
    expect(await sketches.verify(org)).toBeNull();
  });

  it('are read on connections without JIT, whose compiling would cost more than the reads', async () => {
    const analytics = server.app.get<DataSource>(getDataSourceToken(ANALYTICS_CONNECTION));
    expect(await analytics.query('SHOW jit')).toEqual([{ jit: 'off' }]);
  });

  it('are found out by verify when a row is corrupted', async () => {
    const org = newOrganizationId();
    const api = new Api(server.url, tokenFor(org, 'agent'));
    const res = await api.post('/api/v1/tickets', { created_at: '2025-03-30T01:10:00Z', sentiment_score: 0.5 });
    expect(res.status, res.text).toBe(201);
    expect(await rollups.verify(org)).toBeNull();
    await db.query(
      `UPDATE ticket_rollups SET count = count + 1
       WHERE organization_id = $1 AND rollup = 'channel' AND metric = 'ticket_count' AND grain = 60`,
      [org],
    );
    const mismatch = await rollups.verify(org);
    expect(mismatch).toMatchObject({
      key: { organization_id: org, rollup: 'channel', metric: 'ticket_count', grain: 60, channel: 'web' },
      stored: { count: '2' },
      expected: { count: '1' },
      mismatches: 1,
    });
    expect((mismatch!.key.bucket as Date).toISOString()).toBe('2025-03-30T01:00:00.000Z');

    // The commands of the README, compiled as an operator runs them.
    const cli = (command: string) =>
      spawnSync(process.execPath, ['dist/src/cli/rollups.js', command, '--org', String(org)], {
        env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const found = cli('verify');
    expect(found.status, found.stderr).toBe(1);
    expect(found.stderr).toContain('1 rollup row(s) differ from the tickets');
    expect(found.stderr).not.toContain('sketch row(s)');
    expect(found.stderr).toContain('"rollup":"channel","metric":"ticket_count","grain":60');
    expect(found.stderr).toContain('"bucket":"2025-03-30T01:00:00.000Z"');
    expect(cli('rebuild').status).toBe(0);
    const clean = cli('verify');
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`rollups and sketches of organization ${org} match the tickets`);
    expect(await rollups.verify(org)).toBeNull();
  });

  it('are found out by verify when a sketch row is corrupted, naming its bucket', async () => {
    const org = newOrganizationId();
    const api = new Api(server.url, tokenFor(org, 'agent'));
    const res = await api.post('/api/v1/tickets', {
      created_at: '2025-03-30T01:10:00Z',
      first_response_at: '2025-03-30T01:40:00Z',
      priority: 'urgent',
    });
    expect(res.status, res.text).toBe(201);
    expect(await sketches.verify(org)).toBeNull();
    // Half an hour is bin ceil(ln 0.5 / ln(1.01/0.99)) = −34; it was within the urgent target of 1 hour.
    const corrupted = await db.query(
      `UPDATE ticket_sketches SET within_target = within_target - 1
       WHERE organization_id = $1 AND grain = 240 AND metric = 'response_time' AND bin = -34`,
      [org],
    );
    expect(corrupted.rowCount).toBe(1);
    const mismatch = await sketches.verify(org);
    expect(mismatch).toMatchObject({
      key: { organization_id: org, grain: 240, metric: 'response_time', bin: -34 },
      stored: { count: '1', within_target: '0' },
      expected: { count: '1', within_target: '1' },
      mismatches: 1,
    });
    expect((mismatch!.key.bucket as Date).toISOString()).toBe('2025-03-30T00:00:00.000Z');

    const cli = (command: string) =>
      spawnSync(process.execPath, ['dist/src/cli/rollups.js', command, '--org', String(org)], {
        env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const found = cli('verify');
    expect(found.status, found.stderr).toBe(1);
    expect(found.stderr).toContain('1 sketch row(s) differ from the tickets');
    expect(found.stderr).toContain(
      '"grain":240,"bucket":"2025-03-30T00:00:00.000Z","metric":"response_time","bin":-34',
    );
    expect(found.stderr).not.toContain('rollup row(s)');
    expect(cli('rebuild').status).toBe(0);
    const clean = cli('verify');
    expect(clean.status, clean.stderr).toBe(0);
    expect(await sketches.verify(org)).toBeNull();
  });

  it('are backfilled by their migration from the tickets already stored, in batches', async () => {
    const url = sideDatabaseUrl('pulse_test_rollups_backfill');
    await migratedDatabase(url);
    const side = new DataSource(buildDataSourceOptions(testConfig({ DATABASE_URL: url })));
    await side.initialize();
    const runner = side.createQueryRunner();
    try {
      const orgs = [newOrganizationId(), newOrganizationId()];
      await side.query(
        `INSERT INTO tickets (organization_id, status, priority, channel, category, sentiment_score,
                              created_at, first_response_at, resolved_at, updated_at)
         SELECT o, CASE WHEN i % 3 = 0 THEN 'closed' ELSE 'pending' END, (ARRAY['low', 'high'])[1 + i % 2],
                'chat', 'billing', CASE WHEN i % 4 = 0 THEN NULL ELSE (i % 9) / 10.0 END, at,
                at + i * interval '7 minutes', CASE WHEN i % 3 = 0 THEN at + interval '3 hours' END, now()
         FROM unnest($1::bigint[]) o, generate_series(1, 40) i,
              LATERAL (SELECT timestamptz '2025-03-29 20:05:00Z' + i * interval '53 minutes' AS at) a`,
        [orgs],
      );
      const migration = new CreateTicketRollups1764000000010();
      await migration.down(runner);
      await migration.up(runner);
      for (const org of orgs) expect(await new RollupsRepository(side).verify(org)).toBeNull();
      await side.query(`DELETE FROM ticket_rollups WHERE organization_id = ANY($1::bigint[])`, [orgs]);
      await backfillRollups(runner, { batch: 7 });
      for (const org of orgs) expect(await new RollupsRepository(side).verify(org)).toBeNull();
      // The migration that added the priority rollup: from none of its rows, and again over them.
      const priority = new AddPriorityRollup1764000000050();
      await priority.down(runner);
      const [{ left }] = await side.query(
        `SELECT count(*)::int AS left FROM ticket_rollups WHERE rollup = 'priority' AND organization_id = ANY($1::bigint[])`,
        [orgs],
      );
      expect(left).toBe(0);
      for (let run = 0; run < 2; run++) {
        await priority.up(runner);
        for (const org of orgs) expect(await new RollupsRepository(side).verify(org)).toBeNull();
      }

      const sketchesMigration = new CreateTicketSketches1764000000020();
      await sketchesMigration.down(runner);
      await sketchesMigration.up(runner);
      const sideSketches = new SketchesRepository(side, { urgent: 1, high: 4, medium: 8, low: 24 });
      for (const org of orgs) {
        expect(await sideSketches.verify(org)).toBeNull();
        expect(await sideSketches.storedTargets(org)).toEqual({ urgent: 1, high: 4, medium: 8, low: 24 });
      }
      const [{ n }] = await side.query(
        `SELECT count(*)::int AS n FROM ticket_sketches WHERE organization_id = ANY($1::bigint[]) AND within_target > 0`,
        [orgs],
      );
      expect(n).toBeGreaterThan(0);
      await side.query(`DELETE FROM ticket_sketches WHERE organization_id = ANY($1::bigint[])`, [orgs]);
      await backfillSketches(runner, 7);
      for (const org of orgs) expect(await sideSketches.verify(org)).toBeNull();
    } finally {
      await runner.release();
      await side.destroy();
    }
  });

  it("are built with the demo's seeded tickets as the writes would have built them", async () => {
    const org = newOrganizationId();
    const targets = { urgent: 2, high: 3, medium: 9, low: 30 };
    const tickets = generateDemoTickets({ now: new Date('2025-04-01T00:00:00Z'), tickets: 1500, days: 20 });
    await insertDemoTickets(db, org, tickets, targets);
    expect(await rollups.verify(org)).toBeNull();
    expect(await sketches.verify(org)).toBeNull();
    expect(await sketches.storedTargets(org)).toEqual(targets);
    expect((await storedSketches(org)).length).toBeGreaterThan(0);
  });

  it('are left as they were by a bulk with one invalid item', async () => {
    const org = newOrganizationId();
    const api = new Api(server.url, tokenFor(org, 'agent'));
    await api.post('/api/v1/tickets/bulk', {
      tickets: [{ external_id: 'a', created_at: '2025-03-30T00:00:00Z', first_response_at: '2025-03-30T00:40:00Z' }],
    });
    const before = await storedRows(org);
    const sketchesBefore = await storedSketches(org);
    expect(sketchesBefore.length).toBeGreaterThan(0);
    const res = await api.post('/api/v1/tickets/bulk', {
      tickets: [
        { external_id: 'a', status: 'closed' },
        { external_id: 'b', created_at: '2025-03-30T05:00:00Z' },
        { external_id: 'c', priority: 'nope' },
      ],
    });
    expect(res.status).toBe(400);
    expect(await storedRows(org)).toEqual(before);
    expect(await storedSketches(org)).toEqual(sketchesBefore);
  });

  it('roll back with a write that fails after they were written', async () => {
    const org = newOrganizationId();
    const api = new Api(server.url, tokenFor(org, 'agent'));
    await api.post('/api/v1/tickets', {
      created_at: '2025-03-30T00:00:00Z',
      first_response_at: '2025-03-30T00:40:00Z',
    });
    const before = await storedRows(org);
    const sketchesBefore = await storedSketches(org);
    expect(sketchesBefore.length).toBeGreaterThan(0);
    const events = server.app.get(EventEmitter2);
    // Fails the transaction once this write's rollups and sketches (written after them) are visible inside it.
    const failing = async (event: TicketsWritingEvent) => {
      if (event.organizationId !== org) return;
      for (let i = 0; i < 200; i++) {
        const [{ n }] = await event.manager.query(
          `SELECT count(*)::int AS n FROM ticket_sketches
           WHERE organization_id = $1 AND grain = 60 AND bucket >= '2025-03-30T05:00:00Z'`,
          [org],
        );
        if (n > 0) throw new Error('killed after the rollups and sketches were written');
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    events.on(TICKETS_WRITING, failing);
    try {
      const res = await api.post('/api/v1/tickets/bulk', {
        tickets: [{ created_at: '2025-03-30T05:00:00Z', first_response_at: '2025-03-30T05:10:00Z', status: 'closed' }],
      });
      expect(res.status).toBe(500);
    } finally {
      events.off(TICKETS_WRITING, failing);
    }
    expect(await storedRows(org)).toEqual(before);
    expect(await storedSketches(org)).toEqual(sketchesBefore);
    expect(await rollups.verify(org)).toBeNull();
    expect(await sketches.verify(org)).toBeNull();
  });

  it('match the raw tickets after 16 concurrent writers hammer the same tickets and buckets', async () => {
    const org = newOrganizationId();
    const api = new Api(server.url, tokenFor(org, 'agent'));
    const seeded = await api.post('/api/v1/tickets/bulk', {
      tickets: Array.from({ length: 8 }, (_, i) => ({ external_id: `t${i}`, created_at: '2025-03-30T00:20:00Z' })),
    });
    expect(seeded.status, seeded.text).toBe(200);
    const ids = (await api.get('/api/v1/tickets?limit=500')).body.items.map((t: { id: string }) => t.id);
    const statuses = (
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          const codes: number[] = [];
          for (let i = 0; i < 8; i++) {
            const status = STATUSES[(w + i) % STATUSES.length];
            const at = `2025-03-30T0${(w + i) % 3}:${String((w * 7 + i) % 60).padStart(2, '0')}:00Z`;
            const res =
              i % 3 === 0
                ? await api.post('/api/v1/tickets', { created_at: at, priority: PRIORITIES[w % 4] })
                : i % 3 === 1
                  ? await api.patch(`/api/v1/tickets/${ids[(w + i) % ids.length]}`, {
                      status,
                      channel: CHANNELS[w % 3],
                    })
                  : await api.post('/api/v1/tickets/bulk', {
                      tickets: [
                        { external_id: `t${(w + i) % 8}`, status, first_response_at: '2025-03-30T03:00:00Z' },
                        { external_id: `t${(w + i + 1) % 8}`, category: CATEGORIES[i % 3], sentiment_score: w / 16 },
                      ],
                    });
            codes.push(res.status);
          }
          return codes;
        }),
      )
    ).flat();
    expect(statuses.filter((s) => s >= 300)).toEqual([]);
    expect(await rollups.verify(org)).toBeNull();
    expect(await sketches.verify(org)).toBeNull();
  });
});
