import { DateTime } from 'luxon';
import type { ClientBase, Pool } from 'pg';
import type { Priority, Status } from '../metrics/dimensions.js';
import type { MetricTicket } from '../metrics/metric-registry.js';
import { upsertContributionsSql } from '../metrics/rollup-lattice.js';
import {
  coarserSketchesSql,
  FINEST_SKETCH_GRAIN,
  storeTargetsSql,
  upsertSketchesSql,
} from '../metrics/sketch-lattice.js';
import { STATE_COLUMNS } from '../tickets/tickets.repository.js';
import {
  AGENTS,
  CATEGORIES,
  CHANNELS_CLOSED_HOURS,
  CHANNELS_OPEN_HOURS,
  HOURLY,
  PRIORITIES,
  WEEKDAY,
} from './demo-profile.js';
import { logNormal, mulberry32, normal, pick, uuid } from './random.js';

export interface DemoDataOptions {
  /** The end of the history; tickets are created before it, none after. */
  readonly now: Date;
  readonly tickets?: number;
  readonly days?: number;
  /** Same seed and `now`, same tickets (ids included). */
  readonly seed?: number;
  /** Where the support team works: its business hours and weekends shape the traffic. */
  readonly timezone?: string;
}

/** A row of the tickets table, as the API would return it. */
export interface DemoTicket extends MetricTicket {
  readonly id: string;
  readonly external_id: string;
  readonly status: Status;
  readonly priority: Priority;
  readonly updated_at: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INCIDENT_HOURS = 4;
/** The default first-response targets (SLA_FIRST_RESPONSE_HOURS): a breach lowers the customer's mood. */
const SLA_HOURS: Record<Priority, number> = { urgent: 1, high: 4, medium: 8, low: 24 };
/** Median hours to a first response: well inside the targets, with a tail that breaches. */
const FIRST_RESPONSE_HOURS: Record<Priority, number> = { urgent: 0.3, high: 1.2, medium: 2.5, low: 6 };
/** Median hours from first response to resolution. */
const RESOLUTION_HOURS: Record<Priority, number> = { urgent: 3, high: 10, medium: 20, low: 40 };
const CATEGORY_EFFORT: Record<string, number> = { technical: 1.6, billing: 0.7, feature_request: 2.5, onboarding: 1.2 };
const INCIDENT_PRIORITIES: readonly (readonly [Priority, number])[] = [
  ['high', 1],
  ['urgent', 1],
];

/**
 * A realistic support organization's recent history, deterministic for a
 * seed: about `tickets` tickets over `days` days, following business hours,
 * weekdays, a slow growth and one incident (an afternoon of urgent technical
 * tickets from angry customers). Older tickets are answered and resolved,
 * the newest still open, a few old ones forgotten: a live-looking backlog.
 */
export function generateDemoTickets(options: DemoDataOptions): DemoTicket[] {
  const { now, tickets: target = 50_000, days = 90, seed = 1, timezone = 'UTC' } = options;
  if (!DateTime.now().setZone(timezone).isValid) throw new Error(`unknown time zone "${timezone}"`);
  const random = mulberry32(seed);
  const end = now.getTime();
  const start = Math.floor((end - days * DAY) / HOUR) * HOUR;
  const incidentStart = incidentAt(end - Math.round(days / 4) * DAY, timezone);

  // How much of the traffic each hour gets, then that many tickets in it.
  const hours: { start: number; weight: number; local: DateTime }[] = [];
  const dayNoise = new Map<number, number>();
  for (let h = start; h < end; h += HOUR) {
    const local = DateTime.fromMillis(h, { zone: timezone });
    const day = Math.floor((h - start) / DAY);
    if (!dayNoise.has(day)) dayNoise.set(day, Math.max(0.6, 1 + 0.1 * normal(random)));
    const incident = h >= incidentStart && h < incidentStart + INCIDENT_HOURS * HOUR ? 4 : 1;
    const covered = Math.min(1, (end - h) / HOUR);
    const weight = rhythm(local) * growth((h - start) / (end - start)) * dayNoise.get(day)! * incident * covered;
    hours.push({ start: h, weight, local });
  }
  const counts = apportion(
    hours.map((h) => h.weight),
    target,
  );

  const result: DemoTicket[] = [];
  for (const [index, hour] of hours.entries()) {
    const count = counts[index];
    const span = Math.min(HOUR, end - hour.start);
    const times = Array.from({ length: count }, () => hour.start + Math.floor(random() * span)).sort((a, b) => a - b);
    const businessHours = hour.local.weekday <= 5 && hour.local.hour >= 8 && hour.local.hour < 18;
    const inIncident = hour.start >= incidentStart && hour.start < incidentStart + INCIDENT_HOURS * HOUR;
    for (const created of times) {
      result.push(ticket(random, result.length, created, end, { businessHours, inIncident, timezone }));
    }
  }
  return result;
}

/** The traffic's slow growth over the history: 0.85 of the mean rate at its start, 1.15 at its end (`at` in 0..1). */
const growth = (at: number) => 0.85 + 0.3 * at;

/** Relative traffic of a local hour: business hours and weekdays. */
const rhythm = (local: DateTime) => HOURLY[local.hour] * WEEKDAY[local.weekday - 1];

/**
 * Exactly `total` items split in proportion to `weights` (largest remainder):
 * each gets its share rounded down, and the items left go to the largest
 * fractions, so the seeded count is what DEMO_TICKETS says.
 */
function apportion(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => (sum > 0 ? (w / sum) * total : 0));
  const counts = shares.map(Math.floor);
  const left = total - counts.reduce((a, b) => a + b, 0);
  const byFraction = shares.map((share, i) => [share - counts[i], i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; k < left; k++) counts[byFraction[k % byFraction.length][1]] += 1;
  return counts;
}

/**
 * Tickets per hour the seeded history would have at an instant had it gone
 * on: its rate at the end of the history (growth included) in that local
 * hour and weekday. The simulator writes at this rate, so the live hours
 * look like the seeded ones instead of one spike.
 */
export function seededRatePerHour(options: Omit<DemoDataOptions, 'seed'>): (at: Date) => number {
  const { now, tickets = 50_000, days = 90, timezone = 'UTC' } = options;
  const end = now.getTime();
  const start = Math.floor((end - days * DAY) / HOUR) * HOUR;
  let weights = 0;
  for (let h = start; h < end; h += HOUR) {
    weights += rhythm(DateTime.fromMillis(h, { zone: timezone })) * growth((h - start) / (end - start));
  }
  const perWeight = weights > 0 ? (tickets / weights) * growth(1) : 0;
  return (at) => perWeight * rhythm(DateTime.fromJSDate(at, { zone: timezone }));
}

function ticket(
  random: () => number,
  index: number,
  created: number,
  now: number,
  at: { businessHours: boolean; inIncident: boolean; timezone: string },
): DemoTicket {
  const incident = at.inIncident && random() < 0.7;
  const category = incident ? 'technical' : pick(random, CATEGORIES);
  let priority = pick(random, incident ? INCIDENT_PRIORITIES : PRIORITIES);
  if (category === 'technical' && priority === 'low' && random() < 0.5) priority = 'medium';
  const channel = pick(random, at.businessHours ? CHANNELS_OPEN_HOURS : CHANNELS_CLOSED_HOURS);

  // Out of hours only urgent and high tickets reach the on-call agent; the rest wait for the next morning.
  const onCall = priority === 'urgent' || priority === 'high';
  const waitForOpening = !at.businessHours && !onCall ? untilOpening(created, at.timezone) : 0;
  const responseDelay =
    waitForOpening + logNormal(random, FIRST_RESPONSE_HOURS[priority], 0.9) * (incident ? 2 : 1) * HOUR;
  const answered = created + Math.round(responseDelay);
  const forgotten = random() < 0.005;
  const effort = (CATEGORY_EFFORT[category] ?? 1) * (incident ? 0.3 : 1);
  const resolved = forgotten
    ? Infinity
    : answered + Math.round(logNormal(random, RESOLUTION_HOURS[priority] * effort, 1) * HOUR);

  const firstResponseAt = answered <= now ? answered : null;
  const resolvedAt = resolved <= now ? resolved : null;
  let status: Status;
  if (resolvedAt !== null) status = now - resolvedAt > 5 * DAY && random() < 0.8 ? 'closed' : 'resolved';
  else if (firstResponseAt !== null) status = random() < 0.65 ? 'in_progress' : 'pending';
  else status = 'open';
  const assigned = firstResponseAt !== null || random() < 0.5;

  // Three tickets in four carry a sentiment score; slow, unresolved and incident tickets score lower.
  let sentiment: number | null = null;
  if (random() < 0.75) {
    const breached = answered - created > SLA_HOURS[priority] * HOUR;
    const stale = resolvedAt === null && now - created > 7 * DAY;
    const mean =
      0.3 - (breached ? 0.25 : 0) - (stale ? 0.3 : 0) - (incident ? 0.5 : 0) - (priority === 'urgent' ? 0.1 : 0);
    sentiment = Math.round(Math.max(-1, Math.min(1, mean + 0.3 * normal(random))) * 100) / 100;
  }
  return {
    id: uuid(random),
    external_id: `demo-${String(index + 1).padStart(6, '0')}`,
    status,
    priority,
    channel,
    category,
    assignee_id: assigned ? pick(random, AGENTS) : null,
    sentiment_score: sentiment,
    created_at: new Date(created),
    first_response_at: firstResponseAt === null ? null : new Date(firstResponseAt),
    resolved_at: resolvedAt === null ? null : new Date(resolvedAt),
    updated_at: new Date(Math.max(created, firstResponseAt ?? 0, resolvedAt ?? 0)),
  };
}

/** 13:00 local on the weekday at or before `ms`: the incident hits a busy afternoon. */
function incidentAt(ms: number, timezone: string): number {
  let day = DateTime.fromMillis(ms, { zone: timezone }).set({ hour: 13, minute: 0, second: 0, millisecond: 0 });
  while (day.weekday > 5) day = day.minus({ days: 1 });
  return day.toMillis();
}

/** Milliseconds from `ms` to the next weekday 08:00 in the zone. */
function untilOpening(ms: number, timezone: string): number {
  let opening = DateTime.fromMillis(ms, { zone: timezone }).set({ hour: 8, minute: 0, second: 0, millisecond: 0 });
  if (opening.toMillis() <= ms) opening = opening.plus({ days: 1 });
  while (opening.weekday > 5) opening = opening.plus({ days: 1 });
  return opening.toMillis() - ms;
}

/** The repository's state columns, with the id and the write time the demo sets itself. */
const COLUMNS = [
  ['id', 'uuid'],
  ...STATE_COLUMNS,
  ['updated_at', 'timestamptz'],
] as const satisfies readonly (readonly [keyof DemoTicket, string])[];

/** Whether the organization has any ticket: demo data is never piled onto an organization in use. */
export async function isOrganizationSeeded(db: Pool | ClientBase, organizationId: number): Promise<boolean> {
  const { rows } = await db.query<{ seeded: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM tickets WHERE organization_id = $1) AS seeded',
    [organizationId],
  );
  return rows[0].seeded;
}

/**
 * Inserts the tickets in one transaction, so a crash leaves none and the
 * organization still counts as unseeded (`db`: a pool, or a client outside
 * any transaction). `batchSize` rows per statement through `unnest` over one
 * array per column: a fixed 13 parameters whatever the batch (50,000 rows in
 * under 2 s on PGlite). COPY FROM STDIN would be faster on PostgreSQL but
 * kills PGlite, which cannot read COPY data from a client. The rollups and
 * sketches (src/metrics/README.md) are built from them in the same
 * transaction, the within-target counts with `targets`.
 */
export async function insertDemoTickets(
  db: Pool | ClientBase,
  organizationId: number,
  tickets: readonly DemoTicket[],
  targets: Readonly<Record<Priority, number>>,
  batchSize = 5000,
): Promise<void> {
  const client = isPool(db) ? await db.connect() : db;
  try {
    await client.query('BEGIN');
    for (let i = 0; i < tickets.length; i += batchSize) {
      const batch = tickets.slice(i, i + batchSize);
      await client.query(
        `INSERT INTO tickets (organization_id, ${COLUMNS.map(([c]) => c).join(', ')})
         SELECT $1, u.* FROM unnest(${COLUMNS.map(([, type], n) => `$${n + 2}::${type}[]`).join(', ')}) AS u`,
        [organizationId, ...COLUMNS.map(([column]) => batch.map((t) => t[column]))],
      );
    }
    // The organization was empty: its rollups and sketches are its tickets' contributions, committed with them.
    const all = `(SELECT tk.*, 1 AS sign FROM tickets tk WHERE tk.organization_id = $1)`;
    await client.query(upsertContributionsSql(all), [organizationId]);
    await client.query(storeTargetsSql(organizationId, targets));
    await client.query(upsertSketchesSql(all, FINEST_SKETCH_GRAIN), [organizationId]);
    for (const statement of coarserSketchesSql()) await client.query(statement, [organizationId]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    if (isPool(db)) (client as ClientBase & { release(): void }).release();
  }
  // Fresh statistics, as autovacuum would soon give them, so the first dashboards get good plans.
  await db.query('ANALYZE tickets');
}

/**
 * Seeds the organization with a generated history unless it has tickets
 * already; returns how many tickets it inserted (0 when it left it alone).
 */
export async function seedDemoOrganization(
  db: Pool | ClientBase,
  organizationId: number,
  options: DemoDataOptions,
  targets: Readonly<Record<Priority, number>>,
): Promise<number> {
  if (await isOrganizationSeeded(db, organizationId)) return 0;
  const tickets = generateDemoTickets(options);
  await insertDemoTickets(db, organizationId, tickets, targets);
  return tickets.length;
}

function isPool(db: Pool | ClientBase): db is Pool {
  return 'totalCount' in db;
}
