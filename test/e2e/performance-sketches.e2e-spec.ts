import fc from 'fast-check';
import { SketchesRepository } from '../../src/rollups/sketches.repository.js';
import { newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { percentileCont } from '../support/analytics-truth.js';
import { Api, qs } from '../support/http.js';
import { formatInZone, parseRequestTimestamp } from '../support/series-truth.js';

/**
 * Property test of accuracy=approximate (API.md §4.4): random tickets whose
 * response and resolution times run from 0 through milliseconds to months
 * (repeated values included), written through the API so the sketches are
 * kept by the writes, then many random ranges per data set in zones with
 * whole-, half- and quarter-hour offsets, local wall times to the minute or
 * instants to the millisecond. Every percentile must be within 1% of
 * percentile_cont computed here, 0 exactly when that is 0, null when there
 * is nothing; the compliance rate exact.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BASE = Date.UTC(2025, 2, 24);
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Asia/Kolkata', 'Australia/Eucla'];
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
const TARGETS = { urgent: 1, high: 4, medium: 8, low: 24 } as const;
const FRACTIONS = [0.5, 0.95, 0.99] as const;
/** The bound of the API, with room for float rounding in the last digits (both sides compute in float8). */
const RELATIVE_BOUND = 0.01 * (1 + 1e-9);
const DATA_SETS = 30;
const RANGES_PER_SET = 40;

/** A duration in ms: zero, a few ms, or log-uniform from a second to a month, some of them repeated. */
const duration = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }) },
  { weight: 1, arbitrary: fc.constantFrom(HOUR, 4 * HOUR, 90 * MINUTE) },
  {
    weight: 6,
    arbitrary: fc
      .double({ min: Math.log(1000), max: Math.log(30 * DAY), noNaN: true })
      .map((x) => Math.round(Math.exp(x))),
  },
);
const ticket = fc.record({
  created: fc.integer({ min: 0, max: 20 * DAY }),
  priority: fc.constantFrom(...PRIORITIES),
  response: fc.option(duration, { nil: null }),
  resolution: fc.option(duration, { nil: null }),
});

const range = fc.record({
  zone: fc.constantFrom(...ZONES),
  from: fc.integer({ min: -2 * DAY, max: 22 * DAY }),
  length: fc.oneof(
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 * HOUR }) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 30 * DAY }) },
  ),
  wall: fc.boolean(),
});
type GeneratedRange = typeof range extends fc.Arbitrary<infer T> ? T : never;

const dataSet = fc.record({
  tickets: fc.oneof(
    { weight: 1, arbitrary: fc.array(ticket, { maxLength: 5 }) },
    { weight: 4, arbitrary: fc.array(ticket, { minLength: 50, maxLength: 300 }) },
  ),
  ranges: fc.array(range, { minLength: RANGES_PER_SET, maxLength: RANGES_PER_SET }),
});

interface Facts {
  readonly priority: (typeof PRIORITIES)[number];
  readonly created: number;
  readonly response: number | null;
  readonly resolution: number | null;
}

/** The request's query and the instants it stands for: a local wall time to the minute, or an instant to the ms. */
function requestOf(r: GeneratedRange): { query: Record<string, string>; start: number; end: number } | null {
  const start = BASE + r.from;
  const end = start + r.length;
  if (!r.wall) {
    const query = { start_date: new Date(start).toISOString(), end_date: new Date(end).toISOString() };
    return { query: { ...query, timezone: r.zone }, start, end };
  }
  const wall = (instant: number) => formatInZone(Math.floor(instant / MINUTE) * MINUTE, r.zone).slice(0, 16);
  const query = { start_date: wall(start), end_date: wall(end), timezone: r.zone };
  const [s, e] = [parseRequestTimestamp(query.start_date, r.zone), parseRequestTimestamp(query.end_date, r.zone)];
  // Equal after rounding to the minute, or not a local time there (a spring-forward gap): another range.
  if (s >= e || formatInZone(s, r.zone).slice(0, 16) !== query.start_date) return null;
  if (formatInZone(e, r.zone).slice(0, 16) !== query.end_date) return null;
  return { query, start: s, end: e };
}

function expected(tickets: readonly Facts[], start: number, end: number) {
  const placed = (at: number | null) => at !== null && at >= start && at < end;
  const responses = tickets.filter((t) => placed(t.response === null ? null : t.created + t.response));
  const resolutions = tickets.filter((t) => placed(t.resolution === null ? null : t.created + t.resolution));
  const hours = (ms: number) => ms / HOUR;
  const within = responses.filter((t) => hours(t.response!) <= TARGETS[t.priority]).length;
  return {
    response_time: FRACTIONS.map((f) =>
      percentileCont(
        responses.map((t) => hours(t.response!)),
        f,
      ),
    ),
    resolution_time: FRACTIONS.map((f) =>
      percentileCont(
        resolutions.map((t) => hours(t.resolution!)),
        f,
      ),
    ),
    sla_compliance_rate: responses.length === 0 ? null : within / responses.length,
  };
}

describe('GET /analytics/performance?accuracy=approximate', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('is within 1% of percentile_cont for random data, ranges and zones; 0 stays 0, null stays null', async () => {
    const seen = { cases: 0, percentiles: 0, positive: 0, zeros: 0, nulls: 0, withBlocks: 0 };
    await fc.assert(
      fc.asyncProperty(dataSet, async ({ tickets, ranges }) => {
        const org = newOrganizationId();
        const facts: Facts[] = tickets.map((t) => ({ ...t, created: BASE + t.created }));
        if (facts.length > 0) {
          const res = await new Api(server.url, tokenFor(org, 'agent')).post('/api/v1/tickets/bulk', {
            tickets: facts.map((t) => body(t)),
          });
          expect(res.status, res.text).toBe(200);
        }
        const viewer = new Api(server.url, tokenFor(org, 'viewer'));
        for (const r of ranges) {
          const request = requestOf(r);
          if (request === null) continue;
          const res = await viewer.get(
            `/api/v1/analytics/performance${qs({ ...request.query, accuracy: 'approximate', use_cache: false })}`,
          );
          expect(res.status, res.text).toBe(200);
          expect(res.body.accuracy).toBe('approximate');
          const truth = expected(facts, request.start, request.end);
          const where = `${JSON.stringify(request.query)} over ${facts.length} tickets`;
          for (const metric of ['response_time', 'resolution_time'] as const) {
            FRACTIONS.forEach((f, i) => {
              const exact = truth[metric][i]!;
              const approximate = res.body[`${metric}_p${Math.round(f * 100)}`];
              const label = `${metric} p${f * 100} ${where}`;
              if (exact === null) {
                expect(approximate, label).toBeNull();
                seen.nulls++;
              } else if (exact === 0) {
                expect(approximate, label).toBe(0);
                seen.zeros++;
              } else {
                expect(Math.abs(approximate - exact), `${label}: ${approximate} for ${exact}`).toBeLessThanOrEqual(
                  RELATIVE_BOUND * exact,
                );
                seen.positive++;
              }
              seen.percentiles++;
            });
          }
          expect(res.body.sla_compliance_rate, `sla ${where}`).toEqual(
            truth.sla_compliance_rate === null ? null : expect.closeTo(truth.sla_compliance_rate, 12),
          );
          if (request.end - request.start >= 2 * HOUR) seen.withBlocks++;
          seen.cases++;
        }
      }),
      { numRuns: DATA_SETS },
    );
    console.log(
      `approximate percentiles: ${seen.cases} cases (${DATA_SETS} data sets), ${seen.percentiles} percentiles: ` +
        `${seen.positive} positive within 1%, ${seen.zeros} exactly 0, ${seen.nulls} null`,
    );
    expect(seen.cases).toBeGreaterThanOrEqual(1000);
    // Most answers are positive (the data sets hold zeros and empty ranges on purpose, so not all).
    expect(seen.positive).toBeGreaterThan(seen.percentiles / 3);
    expect(seen.zeros).toBeGreaterThan(0);
    expect(seen.nulls).toBeGreaterThan(0);
    expect(seen.withBlocks).toBeGreaterThan(seen.cases / 2);
  }, 300_000);
});

function body(t: Facts): Record<string, unknown> {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    priority: t.priority,
    created_at: iso(t.created),
    first_response_at: t.response === null ? null : iso(t.created + t.response),
    ...(t.resolution === null
      ? { status: 'pending' }
      : { status: 'resolved', resolved_at: iso(t.created + t.resolution) }),
  };
}

describe('accuracy=approximate when SLA_FIRST_RESPONSE_HOURS changes', () => {
  const CHANGED = { urgent: 2, high: 6, medium: 12, low: 48 } as const;
  let before: TestApp;
  let after: TestApp;

  beforeAll(async () => {
    before = await startApp();
    after = await startApp({ SLA_FIRST_RESPONSE_HOURS: 'urgent=2,high=6,medium=12,low=48' });
  });
  afterAll(async () => {
    await before.close();
    await after.close();
  });

  it('answers the rate for the new targets from the raw rows until a rebuild, then from the counts', async () => {
    const org = newOrganizationId();
    // Answers of every priority at 1.5, 3, 5, 10, 30 hours: the two sets of targets count them differently.
    const facts: Facts[] = PRIORITIES.flatMap((priority, p) =>
      [1.5, 3, 5, 10, 30].map((h, i) => ({
        priority,
        created: BASE + (p * 5 + i) * 5 * HOUR,
        response: h * HOUR,
        resolution: null,
      })),
    );
    const written = await new Api(before.url, tokenFor(org, 'agent')).post('/api/v1/tickets/bulk', {
      tickets: facts.map((t) => body(t)),
    });
    expect(written.status, written.text).toBe(200);
    const query = { start_date: '2025-03-20T00:00:00Z', end_date: '2025-04-20T00:00:00Z', use_cache: false };
    const rate = (targets: Record<(typeof PRIORITIES)[number], number>) =>
      facts.filter((t) => t.response! / HOUR <= targets[t.priority]).length / facts.length;
    expect(rate(CHANGED)).not.toBe(rate(TARGETS));
    const read = async (app: TestApp) =>
      (
        await new Api(app.url, tokenFor(org, 'viewer')).get(
          `/api/v1/analytics/performance${qs({ ...query, accuracy: 'approximate' })}`,
        )
      ).body;

    expect((await read(before)).sla_compliance_rate).toBeCloseTo(rate(TARGETS), 12);
    expect((await read(after)).sla_compliance_rate).toBeCloseTo(rate(CHANGED), 12);
    const sketches = after.app.get(SketchesRepository);
    expect(await sketches.storedTargets(org)).toEqual(TARGETS);
    // A write through the new settings still counts with the stored targets.
    const more = await new Api(after.url, tokenFor(org, 'agent')).post('/api/v1/tickets', body(facts[0]!));
    expect(more.status, more.text).toBe(201);
    facts.push(facts[0]!);
    expect(await sketches.verify(org)).toBeNull();
    expect((await read(after)).sla_compliance_rate).toBeCloseTo(rate(CHANGED), 12);

    await sketches.rebuild(org);
    expect(await sketches.storedTargets(org)).toEqual(CHANGED);
    expect(await sketches.verify(org)).toBeNull();
    expect((await read(after)).sla_compliance_rate).toBeCloseTo(rate(CHANGED), 12);
    // The old settings now read the raw rows in turn.
    expect((await read(before)).sla_compliance_rate).toBeCloseTo(rate(TARGETS), 12);
  });
});
