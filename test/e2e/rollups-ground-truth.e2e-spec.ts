import { ticketBody } from '../support/ticket-body.js';
import fc from 'fast-check';
import { RollupsRepository } from '../../src/rollups/rollups.repository.js';
import { SketchesRepository } from '../../src/rollups/sketches.repository.js';
import { Api, qs } from '../support/http.js';
import { expectedQueueOf } from '../support/queue-truth.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import {
  dimensionValue,
  matchesFilters,
  percentileCont,
  type Filters,
  type Metric,
  type TicketFacts,
} from '../support/analytics-truth.js';
import {
  expectGroundTruth,
  formatInZone,
  parseRequestTimestamp,
  type Granularity,
  type SeriesCase,
} from '../support/series-truth.js';

/**
 * Property test of the answers served from rollups (src/metrics/README.md):
 * random tickets around DST changes and local midnights of zones with
 * quarter- and half-hour offsets, random writes after them (PATCH of every
 * field, reopening, dimension changes, bulk upserts), then time series of
 * every granularity in several zones, with and without filters,
 * distributions and performance (exact, and approximate within 1%), each
 * compared with the independent computation; and the stored rollups and
 * sketches equal to the ones recomputed from the tickets.
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/St_Johns',
  'Australia/Eucla',
] as const;
const GRANULARITIES: readonly Granularity[] = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'];
const METRICS: readonly Metric[] = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'];
const STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'] as const;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
const CHANNELS = ['email', 'chat', 'phone'] as const;
const CATEGORIES = ['general', 'billing'] as const;
/** DST changes (Berlin, New York, St John's, Lord Howe, Chatham) and local midnights of the quarter-hour zones. */
const ANCHORS = [
  Date.UTC(2025, 2, 30, 1),
  Date.UTC(2025, 2, 9, 7),
  Date.UTC(2025, 2, 9, 5, 30),
  Date.UTC(2025, 3, 5, 15),
  Date.UTC(2025, 3, 5, 14),
  Date.UTC(2025, 2, 31, 18, 15), // Kathmandu's midnight of April 1st
  Date.UTC(2025, 2, 31, 15, 15), // Eucla's midnight of April 1st
];

const instant = fc
  .tuple(fc.constantFrom(...ANCHORS), fc.integer({ min: -40 * HOUR, max: 40 * HOUR }), fc.boolean())
  .map(([anchor, delta, round]) => anchor + (round ? Math.round(delta / (15 * MINUTE)) * 15 * MINUTE : delta));
const fields = fc.record(
  {
    status: fc.constantFrom(...STATUSES),
    priority: fc.constantFrom(...PRIORITIES),
    channel: fc.constantFrom(...CHANNELS),
    category: fc.constantFrom(...CATEGORIES),
    sentiment_score: fc.oneof(fc.constant(null), fc.double({ min: -1, max: 1, noNaN: true })),
    created_at: instant,
    first_response_after: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 30 * HOUR })),
    resolved_after: fc.integer({ min: 0, max: 60 * HOUR }),
  },
  { requiredKeys: [] },
);
type Fields = typeof fields extends fc.Arbitrary<infer T> ? T : never;

const body = (f: Fields, createdAt: number | null) => ticketBody(f, createdAt, ANCHORS[0]!);

/**
 * A local range of the zone: wall times between March 25th and April 10th, to
 * the minute, or on whole hours or days (ranges whose buckets all align on a
 * rollup grain are read in one scan of that grain).
 */
const localRange = fc
  .tuple(
    fc.integer({ min: 0, max: 16 * 24 * 60 }),
    fc.integer({ min: 1, max: 16 * 24 * 60 }),
    fc.constantFrom(1, 60, 24 * 60),
  )
  .map(([minute, minutes, unit]) => [
    Math.floor(minute / unit) * unit,
    Math.max(unit, Math.floor(minutes / unit) * unit),
  ])
  .map(([from, length]) => {
    const wall = (minutes: number) => {
      const d = new Date(Date.UTC(2025, 2, 25) + minutes * MINUTE);
      return d.toISOString().slice(0, 16);
    };
    return { label: 'random', start_date: wall(from), end_date: wall(Math.min(from + length, 16 * 24 * 60 + 1)) };
  });
const filters: fc.Arbitrary<Filters> = fc.oneof(
  fc.constant({}),
  fc.record({ status: fc.subarray([...STATUSES], { minLength: 1 }).map((v) => [...v].sort()) }),
  fc.record({ channel: fc.subarray([...CHANNELS], { minLength: 1 }).map((v) => [...v].sort()) }),
  fc.record({ category: fc.constantFrom(['billing'], ['general']) }),
  fc.record({ priority: fc.constantFrom(['high'], ['low', 'urgent']), status: fc.constantFrom(['open'], ['closed']) }),
);

const scenario = fc.record({
  creates: fc.array(fields, { minLength: 1, maxLength: 25 }),
  patches: fc.array(fc.record({ target: fc.nat(), fields }), { maxLength: 10 }),
  bulk: fc.array(fc.record({ target: fc.nat(), fields }), { maxLength: 5 }),
  metric: fc.constantFrom(...METRICS),
  range: localRange,
  filters,
});

describe('answers from rollups against the ground truth', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('equal the independent computation after random tickets and writes, in every granularity and zone', async () => {
    let cases = 0;
    let run = 0;
    const zonesSeen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const org = newOrganizationId();
        const agent = new Api(server.url, tokenFor(org, 'agent'));
        const created = await agent.post('/api/v1/tickets/bulk', {
          tickets: s.creates.map((f, i) => ({ ...body(f, null), external_id: `e${i}` })),
        });
        if (created.status !== 200) return; // an invalid combination: nothing written, nothing to compare
        let tickets = (await agent.get('/api/v1/tickets?limit=500')).body.items;
        for (const p of s.patches) {
          const target = tickets[p.target % tickets.length];
          const res = await agent.patch(`/api/v1/tickets/${target.id}`, body(p.fields, Date.parse(target.created_at)));
          expect([200, 400], res.text).toContain(res.status);
        }
        tickets = (await agent.get('/api/v1/tickets?limit=500')).body.items;
        const targets = [...new Set(s.bulk.map((b) => b.target % tickets.length))];
        if (targets.length > 0) {
          const res = await agent.post('/api/v1/tickets/bulk', {
            tickets: targets.map((t, i) => ({
              ...body(s.bulk[i]!.fields, Date.parse(tickets[t].created_at)),
              external_id: tickets[t].external_id,
            })),
          });
          expect([200, 400], res.text).toContain(res.status);
        }
        const facts: TicketFacts[] = (await agent.get('/api/v1/tickets?limit=500')).body.items.map(toFacts);
        expect(await server.app.get(RollupsRepository).verify(org)).toBeNull();
        expect(await server.app.get(SketchesRepository).verify(org)).toBeNull();

        const viewer = new Api(server.url, tokenFor(org, 'viewer'));
        // The backlog and the queue's counts, summed from the daily rollups: every ticket open (and
        // unanswered) now, whenever created.
        const sentAt = Date.now();
        const dashboard = await viewer.get(`/api/v1/analytics/dashboard${qs({ use_cache: false })}`);
        expect(dashboard.status, dashboard.text).toBe(200);
        expect(dashboard.body.current_backlog).toBe(
          facts.filter((t) => ['open', 'in_progress', 'pending'].includes(t.status)).length,
        );
        expect(dashboard.body.queue).toEqual(expectedQueueOf(facts, dashboard.body.queue, sentAt, Date.now()));
        // Three zones a run, in turn, so every zone is asked within the first runs.
        const zones = [0, 3, 5].map((k) => ZONES[(run + k) % ZONES.length]!);
        run++;
        for (const timezone of zones) {
          zonesSeen.add(timezone);
          const range = existsIn(s.range, timezone)
            ? s.range
            : { ...s.range, start_date: `${s.range.start_date}Z`, end_date: `${s.range.end_date}Z` };
          for (const granularity of GRANULARITIES) {
            const c: SeriesCase = {
              name: `${s.metric} ${granularity} ${timezone}`,
              metric: s.metric,
              granularity,
              timezone,
              range,
              filters: s.filters,
            };
            await expectGroundTruth(viewer, facts, c);
            cases++;
          }
          await expectDistribution(viewer, facts, range, timezone, s.filters);
          await expectPerformance(viewer, facts, range, timezone);
          cases += 2;
        }
      }),
      { numRuns: 12 },
    );
    expect(cases).toBeGreaterThan(0);
    expect(zonesSeen.size).toBeGreaterThanOrEqual(8);
    console.log(`rollup ground truth: ${cases} cases, 0 mismatches, zones ${[...zonesSeen].join(', ')}`);
  }, 300_000);
});

describe('answers from rollups on ranges aligned to whole hours and days', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('count tickets on every bucket boundary exactly once, in zones on whole hours and on quarter hours', async () => {
    const org = newOrganizationId();
    const agent = new Api(server.url, tokenFor(org, 'agent'));
    // Local midnights and hours around Berlin's spring-forward, UTC midnights, Kathmandu's midnights: each ±1 ms.
    const edges = [
      Date.UTC(2025, 2, 29),
      Date.UTC(2025, 2, 29, 23),
      Date.UTC(2025, 2, 30),
      Date.UTC(2025, 2, 30, 1),
      Date.UTC(2025, 2, 30, 22),
      Date.UTC(2025, 2, 31),
      Date.UTC(2025, 2, 30, 18, 15),
      Date.UTC(2025, 3, 1),
    ];
    const instants = edges.flatMap((at) => [at - 1, at, at + 1]);
    const created = await agent.post('/api/v1/tickets/bulk', {
      tickets: instants.map((at, i) => ({
        ...body({ status: 'open', created_at: at }, null),
        external_id: `edge-${i}`,
      })),
    });
    expect(created.status, created.text).toBe(200);
    const facts: TicketFacts[] = (await agent.get('/api/v1/tickets?limit=500')).body.items.map(toFacts);
    expect(facts.map((t) => t.created_at).sort((a, b) => a - b)).toEqual([...instants].sort((a, b) => a - b));
    const viewer = new Api(server.url, tokenFor(org, 'viewer'));
    let cases = 0;
    for (const timezone of ['UTC', 'Europe/Berlin', 'Asia/Kathmandu']) {
      for (const range of [
        { label: 'days', start_date: '2025-03-29T00:00:00', end_date: '2025-04-01T00:00:00' },
        { label: 'hours', start_date: '2025-03-29T23:00:00', end_date: '2025-03-31T01:00:00' },
      ]) {
        for (const granularity of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
          await expectGroundTruth(viewer, facts, {
            name: `edges ${range.label} ${granularity} ${timezone}`,
            metric: 'ticket_count',
            granularity,
            timezone,
            range,
          });
          cases++;
        }
      }
    }
    expect(cases).toBe(24);
  });
});

/** GET /distribution/{field} for each rolled-up field against counts of the tickets created in range. */
async function expectDistribution(
  api: Api,
  tickets: readonly TicketFacts[],
  range: { start_date: string; end_date: string },
  timezone: string,
  filters: Filters,
) {
  const start = parseRequestTimestamp(range.start_date, timezone);
  const end = parseRequestTimestamp(range.end_date, timezone);
  for (const field of ['status', 'priority', 'channel', 'category'] as const) {
    const res = await api.get(
      `/api/v1/analytics/distribution/${field}${qs({ start_date: range.start_date, end_date: range.end_date, timezone, ...filters, use_cache: false })}`,
    );
    expect(res.status, res.text).toBe(200);
    const expected: Record<string, number> = {};
    for (const t of tickets) {
      if (t.created_at < start || t.created_at >= end || !matchesFilters(t, filters)) continue;
      const value = dimensionValue(t, field);
      expected[value] = (expected[value] ?? 0) + 1;
    }
    expect(res.body.distribution, `${field} in ${timezone} from ${formatInZone(start, timezone)}`).toEqual(expected);
  }
}

const SLA_TARGETS = { urgent: 1, high: 4, medium: 8, low: 24 } as const;

/**
 * GET /performance, exact and approximate, against percentile_cont of the
 * tickets placed in range computed here: the exact one to rounding, the
 * approximate one within 1% (0 exactly); the compliance rate exact in both.
 */
async function expectPerformance(
  api: Api,
  tickets: readonly TicketFacts[],
  range: { start_date: string; end_date: string },
  timezone: string,
) {
  const start = parseRequestTimestamp(range.start_date, timezone);
  const end = parseRequestTimestamp(range.end_date, timezone);
  const hours = (at: number | null, t: TicketFacts) =>
    at !== null && at >= start && at < end ? [(at - t.created_at) / HOUR] : [];
  const responses = tickets.flatMap((t) => hours(t.first_response_at, t).map((h) => ({ h, t })));
  const values = {
    response_time: responses.map((r) => r.h),
    resolution_time: tickets.flatMap((t) => hours(t.resolved_at, t)),
  };
  const within = responses.filter((r) => r.h <= SLA_TARGETS[r.t.priority as keyof typeof SLA_TARGETS]).length;
  const rate = responses.length === 0 ? null : within / responses.length;
  for (const accuracy of ['exact', 'approximate'] as const) {
    const res = await api.get(
      `/api/v1/analytics/performance${qs({ start_date: range.start_date, end_date: range.end_date, timezone, accuracy, use_cache: false })}`,
    );
    expect(res.status, res.text).toBe(200);
    const label = `performance ${accuracy} in ${timezone} from ${formatInZone(start, timezone)} to ${formatInZone(end, timezone)}`;
    expect(res.body.accuracy, label).toBe(accuracy);
    expect(res.body.sla_compliance_rate, label).toEqual(rate === null ? null : expect.closeTo(rate, 12));
    for (const metric of ['response_time', 'resolution_time'] as const) {
      for (const p of [50, 95, 99]) {
        const exact = percentileCont(values[metric], p / 100);
        const served = res.body[`${metric}_p${p}`];
        if (exact === 0 && accuracy === 'approximate') {
          expect(served, `${metric}_p${p} ${label}`).toBe(0);
        } else if (exact === null || accuracy === 'exact') {
          expect(served, `${metric}_p${p} ${label}`).toEqual(exact === null ? null : expect.closeTo(exact, 9));
        } else {
          expect(Math.abs(served - exact), `${metric}_p${p} ${label}`).toBeLessThanOrEqual(0.01 * (1 + 1e-9) * exact);
        }
      }
    }
  }
}

/** Whether both ends of a wall-time range exist in the zone (not in a spring-forward gap). */
function existsIn(range: { start_date: string; end_date: string }, zone: string): boolean {
  try {
    parseRequestTimestamp(range.start_date, zone);
    parseRequestTimestamp(range.end_date, zone);
    return true;
  } catch {
    return false;
  }
}

function toFacts(t: Record<string, any>): TicketFacts {
  const at = (v: string | null) => (v === null ? null : Date.parse(v));
  return {
    status: t.status,
    priority: t.priority,
    channel: t.channel,
    category: t.category,
    assignee_id: t.assignee_id,
    sentiment_score: t.sentiment_score,
    created_at: at(t.created_at)!,
    first_response_at: at(t.first_response_at),
    resolved_at: at(t.resolved_at),
  };
}
