import { Api, qs, type HttpResult } from './http.js';
import { newOrganizationId, tokenFor } from './app.js';
import { STRONG_ETAG, buildFixture, ifNoneMatch, seedOrganization, type Ticket } from './analytics-truth.js';
import { buildTicket } from './factories.js';
import { computations } from './metrics.js';

/** A fresh organization holding a seeded fixture of 40 tickets, and an admin client for it. */
export async function seededOrganization(baseUrl: string, seed: number, prefix: string) {
  const organizationId = newOrganizationId();
  const tickets = buildFixture(seed, prefix, 40);
  await seedOrganization(baseUrl, organizationId, tickets);
  return { organizationId, tickets, api: new Api(baseUrl, tokenFor(organizationId, 'admin')) };
}

/** The X-Cache of a successful GET. */
export async function cacheOf(api: Api, path: string): Promise<string | null> {
  const res = await api.get(path);
  expect(res.status, res.text).toBe(200);
  return res.headers.get('x-cache');
}

export async function invalidate(api: Api, pattern: string): Promise<void> {
  const res = await api.delete(`/api/v1/analytics/cache${qs({ pattern })}`);
  expect(res.status, res.text).toBe(200);
  expect(res.body.pattern).toBe(pattern);
}

/** MISS, then a HIT with the identical body and the same strong ETag; returns the first answer. */
export async function expectMissThenHit(send: () => Promise<HttpResult>): Promise<HttpResult> {
  const first = await send();
  const second = await send();
  expect(first.status, first.text).toBe(200);
  expect(first.headers.get('x-cache')).toBe('MISS');
  expect(second.headers.get('x-cache')).toBe('HIT');
  expect(second.text).toBe(first.text);
  expect(first.headers.get('etag')).toMatch(STRONG_ETAG);
  expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
  return first;
}

/** A GET with the ETag it answered gets 304 and no body; with another ETag, 200. */
export async function expectNotModified(api: Api, path: string): Promise<void> {
  const etag = (await api.get(path)).headers.get('etag')!;
  const notModified = await api.get(path, ifNoneMatch(etag));
  expect(notModified.status).toBe(304);
  expect(notModified.text).toBe('');
  expect((await api.get(path, ifNoneMatch('"something-else"'))).status).toBe(200);
}

/** `count` identical concurrent cold requests cost one computation of `section` and get one body. */
export async function expectComputedOnce(
  baseUrl: string,
  section: string,
  send: () => Promise<HttpResult>,
  count = 20,
): Promise<void> {
  const before = await computations(baseUrl, section);
  const responses = await Promise.all(Array.from({ length: count }, send));
  expect(await computations(baseUrl, section)).toBe(before + 1);
  expect(responses.every((r) => r.status === 200)).toBe(true);
  expect(new Set(responses.map((r) => r.text)).size).toBe(1);
}

/**
 * Creates a ticket through the API (buildTicket's defaults, overridden by
 * `fields`) and adds its record to the fixture the expected values are
 * computed from; returns the new id and the record, for later changes.
 */
export async function createTicket(
  api: Api,
  tickets: Ticket[],
  fields: Partial<Ticket> & Pick<Ticket, 'created_at'>,
): Promise<{ id: string; ticket: Ticket }> {
  const ticket: Ticket = {
    external_id: 'new',
    status: 'open',
    priority: 'medium',
    channel: 'email',
    category: 'general',
    assignee_id: null,
    sentiment_score: null,
    first_response_at: null,
    resolved_at: null,
    reopened_from: null,
    ...fields,
  };
  const { status, priority, channel, category, created_at } = ticket;
  const created = await api.post(
    '/api/v1/tickets',
    buildTicket({ status, priority, channel, category, created_at: new Date(created_at).toISOString() }),
  );
  expect(created.status, created.text).toBe(201);
  tickets.push(ticket);
  return { id: created.body.id, ticket };
}

/**
 * Waits, when needed, until the current minute has at least `ms` left. A
 * stored dashboard lives until the end of its minute at most (its queue's
 * ages are that minute's), so a test that expects a dashboard to stay a HIT
 * for up to `ms` starts clear of that instant.
 */
export async function clearOfMinuteEnd(ms = 5000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await new Promise((resolve) => setTimeout(resolve, left + 10));
}
