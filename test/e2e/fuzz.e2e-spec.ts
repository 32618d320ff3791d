import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { Role } from '../../src/auth/auth.types.js';
import { JWT_SECRET, newOrganizationId, startApp, tokenFor, type TestApp } from '../support/app.js';
import { expectError } from '../support/errors.js';
import { buildTicket } from '../support/factories.js';
import { Api, type HttpResult } from '../support/http.js';
import { TestSocket } from '../support/socket.js';

/**
 * Property-based bad-input fuzzing (fast-check) of every endpoint and socket
 * event of API.md: random and hostile query strings, bodies, path ids,
 * headers, tokens and socket messages. Whatever a client sends, the service
 * answers within HANG_MS, never with a 5xx, and every 4xx carries the §1 error
 * shape; a socket is never dropped and still answers ping.
 *
 * Fully random input mostly trips the first validation rule, so most cases
 * start from a valid request (fixed or random) and break one to three of its
 * parameters. Each property stops at its case count or its time budget,
 * whichever comes first, which keeps the file under a minute. The cases
 * actually run are counted, printed and written, with how they were answered,
 * to test/artifacts/fuzz-summary.json. A failure is shrunk and printed with
 * fast-check's seed and path, which replay it.
 */

const HANG_MS = 5_000;
/** Time budget per HTTP case: a property stops at its numRuns or at numRuns × this, keeping CI under a minute. */
const MS_PER_CASE = 6;
const V1 = '/api/v1';
const NOW = Date.now();
const DAY = 86_400_000;
const SUMMARY_FILE = fileURLToPath(new URL('../artifacts/fuzz-summary.json', import.meta.url));

const METRICS = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score'];
const DIMENSIONS = ['status', 'priority', 'channel', 'category', 'assignee_id'];
const STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'];
const PRIORITIES = ['low', 'medium', 'high', 'urgent'];
const GRANULARITIES = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'];
const PERIODS = ['24h', '7d', '30d', '90d'];
const WINDOWS = ['1h', '24h', '7d', '30d'];
const SECTIONS = ['time-series', 'aggregations', 'dashboard', 'performance', 'distribution'];
const ROLES = ['viewer', 'agent', 'admin'];
/** socket.io-client throws before sending these; they cannot come from a client. */
const RESERVED_EVENTS = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

const HOSTILE = [
  ['', ' ', '\t', 'null', 'undefined', 'true', 'false', 'NaN', 'Infinity', '-Infinity', '0', '-0', '-1', '1.5'],
  ['1e309', '-1e309', '0x1F', '1_000', '9'.repeat(400), '-9007199254740993', '9007199254740993'],
  ["' OR '1'='1", '1; DROP TABLE tickets; --', "'); SELECT pg_sleep(30); --", '" OR ""="', '\\', '%', '%00'],
  ['\u0000', 'open\u0000', '../../etc/passwd', '<script>alert(1)</script>', '${7*7}', '{{7*7}}', '$where'],
  ['[object Object]', '[]', '{}', '{"$gt":""}', '__proto__', 'constructor', 'prototype', 'toString'],
  ['😀', 'İ', 'ﬀ', '\u202Eopen', '\uFEFFopen', 'ｏｐｅｎ', 'a'.repeat(2000), 'open,pending', 'OPEN', ' open'],
].flat();
const HOSTILE_KEYS = [
  ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'status[]', 'status[0]'],
  ['filters[status]', 'a.b', '$where', '$gt', 'STATUS', 'Status', 'start_date ', 'limit\u0000', '😀', 'ＳＴＡＴＵＳ'],
  ['id', 'organization_id', 'org_id', 'updated_at', 'token', 'role'],
].flat();
const DATES = [
  ['2025-01-01', '2025-01-01T00:00:00Z', '2025-02-30', '2025-13-01', '2025-00-10', '0000-01-01', '0001-01-01'],
  ['9999-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', '+275760-09-13T00:00:00.001Z', '-271821-04-20T00:00:00Z'],
  ['-000001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '1900-01-01', '2025-03-30T02:30:00', '2025-10-26T02:30:00'],
  ['2025-01-01T00:00:00+14:00', '2025-01-01T00:00:00-12:00', '2025-01-01T00:00:00+99:99', '2025-01-01T24:00:00Z'],
  ['2025-01-01T23:59:60Z', '2025-W01', '2025-W01-1', '2025-001', '2025', '2025-01', '20250101', '20250101T000000Z'],
  ['2025-01-01T00:00:00.123456789Z', '2025-01-01 00:00:00', '2025-01-01t00:00:00z', 'now', 'today', '1735689600'],
  ['1735689600000', 'Wed, 01 Jan 2025 00:00:00 GMT', '01/02/2025', '2025-01-01T00:00:00Z[Europe/Berlin]'],
].flat();
const ZONES = [
  ['UTC', 'utc', 'Etc/UTC', 'GMT', 'Z', 'Europe/Berlin', 'europe/berlin', 'America/St_Johns', 'Asia/Kathmandu'],
  ['Australia/Lord_Howe', 'Pacific/Kiritimati', 'Pacific/Apia', 'Pacific/Chatham', 'America/Santiago'],
  ['Africa/Casablanca', 'Antarctica/Troll', 'Etc/GMT+12', 'Etc/GMT-14', 'EST5EDT', 'US/Eastern', 'Asia/Calcutta'],
  ['Mars/Base', 'UTC+5', '+05:30', '-12:00', 'local', 'system', 'Europe/../Berlin', '../../etc/localtime'],
  ['Europe/Berlin\u0000', 'Europe', 'America/Argentina/ComodRivadavia', 'a/'.repeat(40)],
].flat();
const ODD_SEGMENTS = [
  ['0', '-1', '1', '9'.repeat(40), '1e3', 'null', 'undefined', 'NaN', '%00', '%2e%2e', '.', '%2F', '%20'],
  ['a'.repeat(100), '__proto__', 'constructor', "1'%20OR%20'1'='1", '%3Cscript%3E', '%C3%A9', '%F0%9F%98%80'],
].flat();
/** Percent-escapes that do not decode (to UTF-8); fuzzed most in a property of their own, see FINDINGS. */
const BAD_ESCAPES = ['%', '%zz', '%E0%A4%A', '%FF', '%C0%AF', '%ED%A0%80', '%u0041', '%%', '%2'];
const RAW_BODIES = [
  ['', ' ', '{', '}', '{"a":', '[1,2,', 'undefined', 'NaN', "{'status':'open'}", '{"status":"open",}'],
  ['{"status":"open","status":"bogus"}', '\uFEFF{}', '{}{}', '{"a":1}garbage', 'null', 'true', '0', '"x"', '[]'],
  ['{"__proto__":{"role":"admin"}}', '{"constructor":{"prototype":{"role":"admin"}}}', '\u0000', 'a=1&b=2'],
  ['{"tickets":[{"__proto__":{"status":"closed"}}]}', '{"metric_types":{"__proto__":[]}}', '<xml/>'],
  ['{"n":1e999999}', `{"tickets":${'[[[[[[[[[['.repeat(5)}${']]]]]]]]]]'.repeat(5)}}`],
  ['{"s":"\\ud800"}', '{"s":"\\u0000"}', `{"metric_types":["ticket_count"],"period":"7d","format":"csv"}`],
].flat();
const CONTENT_TYPES = [
  ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'],
  ['application/json; charset=utf-16', 'application/json; charset=latin1', 'APPLICATION/JSON', '*/*', ''],
  ['application/json-patch+json', 'application/vnd.api+json', 'application/json, text/plain', 'application'],
].flat();
/** Every route under /api/v1, for any method; a well-formed ticket id that names no ticket. */
const ROUTES = [
  ['/tickets', '/tickets/bulk', '/tickets/0b7f1c52-3e1a-4c3b-9a57-2f1f3c1d9e11', '/analytics/aggregations'],
  ['/analytics/export', '/analytics/dashboard', '/analytics/performance', '/analytics/cache'],
  ['/analytics/refresh-cache', '/analytics/cache/stats', '/analytics/time-series/ticket_count'],
  ['/analytics/distribution/status'],
].flat();
/** The routes that take a JSON body. */
const BODY_ROUTES: (readonly [string, string])[] = [
  ['POST', '/tickets'],
  ['POST', '/tickets/bulk'],
  ['PATCH', '/tickets/{id}'],
  ['POST', '/analytics/aggregations'],
  ['POST', '/analytics/export'],
];
const ODD_PATHS = [
  ['/', '/api', '/api/v1', '/api/v1/', '/api/v2/tickets', '/api/v1/tickets/', '/api/v1//tickets', '/API/V1/TICKETS'],
  ['/api/v1/analytics', '/api/v1/analytics/time-series', '/api/v1/analytics/distribution', '/api/v1/analytics/cache/'],
  ['/api/v1/tickets/bulk/x', '/api/v1/tickets;x', '/api/v1/tickets%00', '/api/v1/%2e%2e/health', '/health/'],
  ['/metrics/x', '/docs', '/docs-json', '/wallboard', '/wallboard/app.js', '/wallboard/%2e%2e%2fpackage.json'],
  ['/wallboard/..%2f..%2fpackage.json', '/%00', '/analytics', '/api/v1/analytics/export/x'],
].flat();
// `/socket.io/` is left out on purpose: engine.io answers it before the app, in socket.io's own
// protocol ({"code": 0, "message": "Transport unknown"}), which its clients rely on.

// ── value arbitraries ────────────────────────────────────────────────────────

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);
/** Printable ASCII: what fetch accepts in a header value. */
const ascii = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
);
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: numberText },
);
const hostileKey = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...HOSTILE_KEYS) }, { weight: 1, arbitrary: text });
const NEAR_MISSES: ((v: string) => string)[] = [
  (v) => v.toUpperCase(),
  (v) => ` ${v}`,
  (v) => `${v} `,
  (v) => `${v}s`,
  (v) => v.slice(0, -1),
  (v) => `${v}\u0000`,
  (v) => `${v},${v}`,
  (v) => v.replace(/_/g, '-'),
  (v) => `${v}' OR '1'='1`,
];
const nearMiss = (valid: readonly string[]) =>
  fc.tuple(fc.constantFrom(...valid), fc.constantFrom(...NEAR_MISSES)).map(([v, miss]) => miss(v));
/** A query value for a parameter with these valid values: mostly valid, else nearly valid or hostile. */
const valueOf = (...valid: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: nearMiss(valid) },
    { weight: 2, arbitrary: hostile },
  );
const dateText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...DATES) },
  { weight: 3, arbitrary: fc.integer({ min: -400 * DAY, max: DAY }).map((ms) => new Date(NOW + ms).toISOString()) },
  {
    weight: 2,
    arbitrary: fc
      .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
      .map((d) => d.toISOString()),
  },
  { weight: 1, arbitrary: hostile },
);
const zoneText = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ZONES) }, { weight: 1, arbitrary: hostile });

/** JSON values of every type, and the classic troublemakers. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      ...[
        [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, [], {}, [null], [[]], { $gt: '' }],
        ['x'.repeat(20_000), JSON.parse('{"__proto__":{"role":"admin"}}'), { constructor: { prototype: {} } }],
      ].flat(),
    ),
  },
  { weight: 2, arbitrary: hostile },
);
/** Junk that keeps a token or a cursor well under Node's 16 KB request head. */
const smallJunk = junk.filter((v) => (JSON.stringify(v) ?? '').length < 1_000);
/** A body value for a field with these valid values. */
const jsonOf = (valid: readonly unknown[]) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: nearMiss(valid.filter((v): v is string => typeof v === 'string')) },
    { weight: 1, arbitrary: junk },
  );
const pastIso = fc.integer({ min: -400 * DAY, max: 0 }).map((ms) => new Date(NOW + ms).toISOString());
const timestampJson = fc.oneof(
  { weight: 3, arbitrary: pastIso },
  { weight: 2, arbitrary: dateText },
  { weight: 1, arbitrary: junk },
);
const dimensionValue = fc.oneof(
  fc.constantFrom(...STATUSES, ...PRIORITIES, 'email', 'general', 'unassigned', 'agent-1', 'a'.repeat(65)),
  hostile,
);
const filtersJson = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.dictionary(
      fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...DIMENSIONS) }, { weight: 1, arbitrary: hostileKey }),
      fc.oneof({ weight: 3, arbitrary: fc.array(dimensionValue, { maxLength: 4 }) }, { weight: 1, arbitrary: junk }),
      { maxKeys: 4 },
    ),
  },
  { weight: 1, arbitrary: junk },
  { weight: 1, arbitrary: fc.constant({ status: Array<string>(101).fill('open') }) },
);
const metricList = fc.oneof(
  { weight: 3, arbitrary: fc.subarray(METRICS, { minLength: 1 }) },
  { weight: 2, arbitrary: fc.array(jsonOf(METRICS), { maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom(Array(9).fill('ticket_count'), Array(1000).fill('ticket_count'), []) },
  { weight: 1, arbitrary: junk },
);

// ── requests ─────────────────────────────────────────────────────────────────

type Pair<V> = readonly [string, V];
type Mutation<V> = { op: 'set' | 'append'; pair: Pair<V> } | { op: 'drop'; key: string };
type Params<V> = Record<string, fc.Arbitrary<V>>;

const pairOf = <V>(params: Params<V>, unknown: fc.Arbitrary<V>, knownWeight = 3): fc.Arbitrary<Pair<V>> => {
  const other = fc.tuple(hostileKey, unknown);
  const known = Object.entries(params).map(([key, value]) => value.map((v): Pair<V> => [key, v]));
  return known.length === 0
    ? other
    : fc.oneof({ weight: knownWeight, arbitrary: fc.oneof(...known) }, { weight: 1, arbitrary: other });
};

const mutationOf = <V>(pair: fc.Arbitrary<Pair<V>>, keys: string[]): fc.Arbitrary<Mutation<V>> =>
  fc.oneof(
    { weight: 4, arbitrary: pair.map((p): Mutation<V> => ({ op: 'set', pair: p })) },
    { weight: 2, arbitrary: pair.map((p): Mutation<V> => ({ op: 'append', pair: p })) },
    {
      weight: keys.length > 0 ? 1 : 0,
      arbitrary: fc.constantFrom('', ...keys).map((key): Mutation<V> => ({ op: 'drop', key })),
    },
  );

function mutate<V>(base: Record<string, V>, mutations: readonly Mutation<V>[]): Pair<V>[] {
  let pairs: Pair<V>[] = Object.entries(base);
  for (const m of mutations) {
    if (m.op === 'drop') pairs = pairs.filter(([key]) => key !== m.key);
    else if (m.op === 'set') pairs = [...pairs.filter(([key]) => key !== m.pair[0]), m.pair];
    else pairs = [...pairs, m.pair];
  }
  return pairs;
}

const encodeQuery = (pairs: readonly Pair<string>[]) => {
  const search = new URLSearchParams();
  for (const [key, value] of pairs) search.append(key, value);
  const encoded = search.toString();
  return encoded ? `?${encoded}` : '';
};

/** Raw query text, `&`, `=` and `%` taken literally (only `#` is escaped, or fetch would drop the rest). */
const rawQuery = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.string({ maxLength: 100 }),
    fc.constantFrom(
      ...[
        ['?', '&&&', '=', '==', 'a=1&a=2&a', '%', '%zz', '%E0%A4%A', '%FF%FE', 'a[b]=1', 'a[]=1&a[]=2', ';'],
        ['status[$ne]=open', '__proto__[role]=admin', 'constructor[prototype][role]=admin', 'a=1;b=2', '+'],
        ['period=7d&period=30d', 'start_date=2025-01-01T00:00:00+01:00&end_date=2025-02-01', `limit=${'9'.repeat(99)}`],
      ].flat(),
    ),
  )
  .map((s) => `?${s.replace(/#/g, '%23')}`);

/** Query strings for an endpoint: random, built from its parameters, or a valid one with 1–3 parameters broken. */
function queryOf(params: Params<string>, bases: Record<string, string>[] = [{}]): fc.Arbitrary<string> {
  const pair = pairOf(params, hostile, 6);
  return fc.oneof(
    { weight: 1, arbitrary: rawQuery },
    { weight: 2, arbitrary: fc.array(pair, { maxLength: 6 }).map(encodeQuery) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...bases),
          fc.array(mutationOf(pair, Object.keys(params)), { minLength: 1, maxLength: 3 }),
        )
        .map(([base, mutations]) => encodeQuery(mutate(base, mutations))),
    },
    { weight: 1, arbitrary: fc.constantFrom(...bases).map((base) => encodeQuery(Object.entries(base))) },
  );
}

/** For a route that takes no query: mostly none, else unknown parameters (a 400). */
const NO_QUERY = fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryOf({}) });

/** An object whose keys may be `__proto__` or `constructor` as own, serialized properties. */
function objectFrom(pairs: readonly Pair<unknown>[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of pairs) {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/**
 * JSON values for a body: wrong top-level types, objects built from its fields,
 * valid ones (fixed or random), or a valid one with 1–3 fields broken.
 */
function objectOf(
  fields: Params<unknown>,
  bases: Record<string, unknown>[],
  valid: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(...bases),
): fc.Arbitrary<unknown> {
  const pair = pairOf(fields, junk, 10);
  const base = fc.oneof(fc.constantFrom(...bases), valid);
  return fc.oneof(
    { weight: 1, arbitrary: junk },
    { weight: 2, arbitrary: fc.array(pair, { maxLength: 8 }).map(objectFrom) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(base, fc.array(mutationOf(pair, Object.keys(fields)), { minLength: 1, maxLength: 3 }))
        .map(([b, mutations]) => objectFrom(mutate(b, mutations))),
    },
    { weight: 2, arbitrary: base },
  );
}

interface Body {
  readonly text: string;
  /** Content-Type; application/json unless given. */
  readonly type?: string;
}

const body = (text: string, type?: string): Body => (type === undefined ? { text } : { text, type });

const rawJson = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RAW_BODIES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)) },
);

function bodyOf(objects: fc.Arbitrary<unknown>): fc.Arbitrary<Body | undefined> {
  return fc.oneof(
    { weight: 12, arbitrary: objects.map((v) => body(JSON.stringify(v) ?? 'null')) },
    { weight: 2, arbitrary: rawJson.map((t) => body(t)) },
    {
      weight: 1,
      arbitrary: fc.tuple(objects, fc.constantFrom(...CONTENT_TYPES)).map(([v, t]) => body(JSON.stringify(v), t)),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

type Auth = 'admin' | 'agent' | 'viewer' | 'none' | { readonly authorization: string };

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly auth: Auth;
  readonly body?: Body;
}

/** A value that prints with long strings cut short: some bodies run to megabytes. */
function printable<T extends object>(value: T): T & fc.WithToStringMethod {
  const short = (_: string, v: unknown) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v;
  return { ...value, [fc.toStringMethod]: () => JSON.stringify(value, short) };
}

/** What the fixture holds once the app runs; arbitraries read it when they generate. */
const fixture = { ticketId: '', cursor: '', etag: '', viewerToken: '' };
const later = <T>(read: () => T) => fc.constant(null).map(read);

const headersArb = fc.record(
  {
    'cache-control': fc.oneof(
      fc.constantFrom('no-cache', 'no-store', 'max-age=0', 'no-cache, no-store', 'only-if-cached', 'max-stale=1e99'),
      ascii,
    ),
    'if-none-match': fc.oneof(
      fc.constantFrom('*', '"x"', 'W/"x"', '""', '"', 'W/', '"a", "b"', '*, "x"'),
      later(() => fixture.etag),
      later(() => `W/${fixture.etag}`),
      ascii,
    ),
    accept: fc.oneof(
      fc.constantFrom('application/json', 'text/html', '*/*', 'text/csv', 'application/xml', 'text/event-stream', ''),
      fc.constantFrom('application/json;q=0', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'),
      ascii,
    ),
    'x-request-id': fc.oneof(ascii, fc.constantFrom('a'.repeat(129), '../x', ' ', 'x-request-id')),
    'accept-language': ascii,
    'if-modified-since': fc.constantFrom('Wed, 21 Oct 2015 07:28:00 GMT', 'garbage', '0'),
  },
  { requiredKeys: [] },
);
const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Auth>('admin') },
  { weight: 2, arbitrary: fc.constantFrom<Auth>('agent', 'viewer', 'none') },
  { weight: 1, arbitrary: ascii.map((raw): Auth => ({ authorization: raw })) },
);

function requestOf(
  method: string,
  path: fc.Arbitrary<string>,
  query: fc.Arbitrary<string>,
  payload: fc.Arbitrary<Body | undefined> = fc.constant(undefined),
): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    method: fc.constant(method),
    path,
    query,
    headers: headersArb,
    auth: authArb,
    body: payload,
  });
}

/** A path segment: mostly a valid one, else odd or random (percent-encoded). */
const segment = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_SEGMENTS) },
    {
      weight: 1,
      arbitrary: text.filter((s) => s.length > 0).map((s) => encodeURIComponent(Array.from(s).slice(0, 25).join(''))),
    },
  );
const ticketId = segment(
  fc.oneof(
    { weight: 4, arbitrary: later(() => fixture.ticketId) },
    later(() => fixture.ticketId.toUpperCase()),
    later(() => `{${fixture.ticketId}}`),
    later(() => fixture.ticketId.replace(/-/g, '')),
    later(() => `${fixture.ticketId}%00`),
    fc.uuid().map(String),
  ),
);
/** Cursors here hold dates PostgreSQL can store; the others have a property of their own. */
const storableDate = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const cursorOf = (createdAt: string, id: string) => Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
const cursorArb = fc.oneof(
  later(() => fixture.cursor),
  fc
    .tuple(
      later(() => fixture.cursor),
      fc.nat(),
      fc.constantFrom('A', '_', '-', '=', '!', ''),
    )
    .map(([c, at, ch]) => c.slice(0, at % (c.length + 1)) + ch + c.slice((at % (c.length + 1)) + 1)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  fc
    .tuple(fc.oneof(storableDate, smallJunk), fc.oneof(fc.uuid().map(String), smallJunk))
    .map((pair) => Buffer.from(JSON.stringify(pair)).toString('base64url')),
  fc.base64String({ maxLength: 600 }),
  hostile,
);

// ── endpoints ────────────────────────────────────────────────────────────────

const rangeParams: Params<string> = {
  start_date: dateText,
  end_date: dateText,
  period: valueOf(...PERIODS),
  timezone: zoneText,
  use_cache: valueOf('true', 'false'),
};
const filterParams: Params<string> = {
  status: valueOf(...STATUSES),
  priority: valueOf(...PRIORITIES),
  channel: valueOf('email', 'chat', 'web', 'a'.repeat(64)),
  category: valueOf('general', 'billing', 'a-b_c'),
  assignee_id: valueOf('unassigned', 'agent-1', 'a'.repeat(128), 'a'.repeat(129)),
};
const seriesParams: Params<string> = { ...rangeParams, ...filterParams, granularity: valueOf(...GRANULARITIES) };
const rangeBases: Record<string, string>[] = [
  { period: '7d' },
  { start_date: '2025-01-01T00:00:00Z', end_date: '2025-01-08T00:00:00Z' },
  { start_date: '2025-03-01', end_date: '2025-04-01', timezone: 'Europe/Berlin', use_cache: 'false' },
];

const ticketFields: Params<unknown> = {
  external_id: fc.oneof(fc.constantFrom('fuzz-1', 'fuzz-2', null, '', 'x'.repeat(128), 'x'.repeat(129)), text, junk),
  status: jsonOf(STATUSES),
  priority: jsonOf(PRIORITIES),
  channel: jsonOf(['email', 'chat', 'web', 'a'.repeat(64), 'a'.repeat(65)]),
  category: jsonOf(['general', 'billing', 'Billing']),
  assignee_id: jsonOf(['agent-1', 'unassigned', null, 'a'.repeat(128), 'a'.repeat(129)]),
  sentiment_score: fc.oneof(
    fc.double({ min: -1, max: 1, noNaN: true }),
    fc.constantFrom(-1, 1, 1.0000001, -1.0000001, 5e-324, null, '0.5'),
    fc.double(),
    junk,
  ),
  created_at: timestampJson,
  first_response_at: fc.oneof(timestampJson, fc.constant(null)),
  resolved_at: fc.oneof(timestampJson, fc.constant(null)),
};
const ticketBases = [
  buildTicket(),
  {},
  buildTicket({
    status: 'resolved',
    created_at: new Date(NOW - 2 * DAY).toISOString(),
    first_response_at: new Date(NOW - DAY).toISOString(),
    resolved_at: new Date(NOW - DAY / 2).toISOString(),
    assignee_id: 'agent-1',
    sentiment_score: -0.5,
  }),
];
const validTicket: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    external_id: fc.option(fc.uuid().map(String), { nil: null }),
    status: fc.constantFrom(...STATUSES),
    priority: fc.constantFrom(...PRIORITIES),
    channel: fc.constantFrom('email', 'chat', 'web', 'a'.repeat(64)),
    category: fc.constantFrom('general', 'billing', 'technical'),
    assignee_id: fc.option(fc.constantFrom('agent-1', 'agent-2', 'a'.repeat(128)), { nil: null }),
    sentiment_score: fc.option(fc.double({ min: -1, max: 1, noNaN: true }), { nil: null }),
    created_at: pastIso,
  },
  { requiredKeys: [] },
);
const ticketObject = objectOf(ticketFields, ticketBases, validTicket);

const metricsBodyFields: Params<unknown> = {
  metric_types: metricList,
  start_date: timestampJson,
  end_date: timestampJson,
  period: jsonOf(PERIODS),
  granularity: jsonOf(GRANULARITIES),
  timezone: fc.oneof(zoneText, junk),
  filters: filtersJson,
};
const aggregationFields: Params<unknown> = {
  ...metricsBodyFields,
  group_by: fc.oneof(
    fc.subarray(DIMENSIONS),
    fc.array(jsonOf([...DIMENSIONS, 'sentiment_band']), { maxLength: 11 }),
    junk,
  ),
  use_cache: fc.oneof(fc.boolean(), junk),
};
const exportFields: Params<unknown> = {
  ...metricsBodyFields,
  format: jsonOf(['csv', 'json', 'xlsx', 'excel']),
  include_raw_data: fc.oneof(fc.boolean(), junk),
};
const VALID_ZONES = ['UTC', 'Europe/Berlin', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe'];
const validMetricsBody = fc.record(
  {
    metric_types: fc.subarray(METRICS, { minLength: 1 }),
    period: fc.constantFrom(...PERIODS),
    granularity: fc.constantFrom(...GRANULARITIES),
    timezone: fc.constantFrom(...VALID_ZONES),
    filters: fc.record(
      {
        status: fc.subarray(STATUSES),
        priority: fc.subarray(PRIORITIES),
        assignee_id: fc.subarray(['unassigned', 'agent-1']),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['metric_types', 'period'] },
);
const wideBody = {
  metric_types: METRICS,
  start_date: '2025-01-01T00:00:00Z',
  end_date: '2025-03-01T00:00:00Z',
  granularity: 'weekly',
  timezone: 'Europe/Berlin',
  filters: { status: ['open'], assignee_id: ['unassigned'] },
};

/** One more than the 10,000 items a bulk request may carry. */
const TOO_MANY_TICKETS = Array.from({ length: 10_001 }, () => ({}));

interface Endpoint {
  readonly name: string;
  readonly request: fc.Arbitrary<FuzzRequest>;
  readonly numRuns: number;
  /** The time budget per case, when not MS_PER_CASE. */
  readonly msPerCase?: number;
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'POST /tickets',
    request: requestOf('POST', fc.constant(`${V1}/tickets`), NO_QUERY, bodyOf(ticketObject)),
    numRuns: 500,
  },
  {
    name: 'POST /tickets/bulk',
    request: requestOf(
      'POST',
      fc.constant(`${V1}/tickets/bulk`),
      NO_QUERY,
      bodyOf(
        objectOf(
          {
            tickets: fc.oneof(
              { weight: 4, arbitrary: fc.array(ticketObject, { maxLength: 20 }) },
              { weight: 3, arbitrary: fc.array(validTicket, { minLength: 1, maxLength: 30 }) },
              { weight: 1, arbitrary: junk },
              { weight: 1, arbitrary: fc.constant(TOO_MANY_TICKETS) },
            ),
          },
          [{ tickets: [buildTicket()] }, { tickets: [{ external_id: 'fuzz-bulk' }, { external_id: 'fuzz-bulk' }] }],
        ),
      ),
    ),
    numRuns: 400,
  },
  {
    name: 'PATCH /tickets/{id}',
    request: requestOf(
      'PATCH',
      ticketId.map((id) => `${V1}/tickets/${id}`),
      NO_QUERY,
      bodyOf(objectOf(ticketFields, [{}, { status: 'closed' }, { status: 'open', priority: 'urgent' }], validTicket)),
    ),
    numRuns: 500,
  },
  {
    name: 'GET /tickets/{id}',
    request: requestOf(
      'GET',
      ticketId.map((id) => `${V1}/tickets/${id}`),
      NO_QUERY,
    ),
    numRuns: 300,
  },
  {
    name: 'GET /tickets',
    request: requestOf(
      'GET',
      fc.constant(`${V1}/tickets`),
      queryOf({ ...filterParams, limit: valueOf('1', '50', '500', '501', '0'), cursor: cursorArb }, [
        { limit: '2' },
        { status: 'open', priority: 'medium' },
      ]),
    ),
    numRuns: 500,
  },
  {
    name: 'GET /analytics/time-series/{metric_type}',
    request: requestOf(
      'GET',
      segment(fc.constantFrom(...METRICS)).map((m) => `${V1}/analytics/time-series/${m}`),
      queryOf(seriesParams, [
        ...rangeBases,
        { period: '24h', granularity: 'hourly', status: 'open' },
        { start_date: '2024-03-01', end_date: '2025-03-01', granularity: 'hourly', timezone: 'America/Santiago' },
      ]),
    ),
    numRuns: 600,
  },
  {
    name: 'POST /analytics/aggregations',
    request: requestOf(
      'POST',
      fc.constant(`${V1}/analytics/aggregations`),
      NO_QUERY,
      bodyOf(
        objectOf(
          aggregationFields,
          [
            { metric_types: ['ticket_count'], period: '7d' },
            { ...wideBody, group_by: ['status', 'priority', 'assignee_id'], use_cache: false },
          ],
          fc
            .tuple(validMetricsBody, fc.subarray(DIMENSIONS), fc.boolean())
            .map(([query, group_by, use_cache]) => ({ ...query, group_by, use_cache })),
        ),
      ),
    ),
    numRuns: 500,
  },
  {
    name: 'GET /analytics/dashboard',
    request: requestOf('GET', fc.constant(`${V1}/analytics/dashboard`), queryOf(rangeParams, [{}, ...rangeBases])),
    numRuns: 400,
  },
  {
    name: 'GET /analytics/performance',
    request: requestOf('GET', fc.constant(`${V1}/analytics/performance`), queryOf(rangeParams, [{}, ...rangeBases])),
    numRuns: 400,
  },
  {
    name: 'GET /analytics/distribution/{field}',
    request: requestOf(
      'GET',
      segment(fc.constantFrom(...DIMENSIONS, 'sentiment_band', 'created_at', 'organization_id')).map(
        (f) => `${V1}/analytics/distribution/${f}`,
      ),
      queryOf({ ...rangeParams, ...filterParams }, rangeBases),
    ),
    numRuns: 500,
  },
  {
    name: 'POST /analytics/export',
    request: requestOf(
      'POST',
      fc.constant(`${V1}/analytics/export`),
      NO_QUERY,
      bodyOf(
        objectOf(
          exportFields,
          [
            { metric_types: ['ticket_count'], period: '7d', format: 'csv' },
            { metric_types: ['response_time'], period: '30d', format: 'json', include_raw_data: true },
            { ...wideBody, format: 'excel', include_raw_data: true },
          ],
          fc
            .tuple(validMetricsBody, fc.constantFrom('csv', 'json', 'xlsx', 'excel'), fc.boolean())
            .map(([query, format, include_raw_data]) => ({ ...query, format, include_raw_data })),
        ),
      ),
    ),
    numRuns: 400,
  },
  {
    name: 'DELETE /analytics/cache',
    request: requestOf(
      'DELETE',
      fc.constant(`${V1}/analytics/cache`),
      queryOf({ pattern: valueOf('all', ...SECTIONS, ...METRICS, '*', 'org:*', '[a-z]*', '?') }, [
        {},
        { pattern: 'all' },
      ]),
      fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bodyOf(junk) }),
    ),
    numRuns: 300,
  },
  {
    name: 'POST /analytics/refresh-cache',
    request: requestOf(
      'POST',
      fc.constant(`${V1}/analytics/refresh-cache`),
      NO_QUERY,
      fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bodyOf(junk) }),
    ),
    numRuns: 60,
    // Each one starts a background recompute of the organization's common results.
    msPerCase: 20,
  },
  {
    name: 'GET /analytics/cache/stats',
    request: requestOf('GET', fc.constant(`${V1}/analytics/cache/stats`), NO_QUERY),
    numRuns: 200,
  },
  {
    name: 'GET /health, /metrics, /wallboard, /docs, /docs-json',
    request: requestOf(
      'GET',
      fc.constantFrom('/health', '/metrics', '/wallboard', '/wallboard/app.js', '/docs', '/docs-json'),
      queryOf({
        token: fc.oneof(
          ascii,
          later(() => fixture.viewerToken),
        ),
      }),
    ),
    numRuns: 300,
  },
  {
    name: 'any method on any path',
    request: fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      path: fc.oneof(
        fc.constantFrom(...ODD_PATHS),
        fc.constantFrom(...ROUTES).map((route) => `${V1}${route}`),
        fc.webPath(),
        fc
          .array(segment(fc.constantFrom('api', 'v1', 'tickets', 'analytics', 'cache', 'bulk', 'ticket_count')), {
            maxLength: 5,
          })
          .map((segments) => `/${segments.join('/')}`),
      ),
      query: NO_QUERY,
      headers: headersArb,
      auth: authArb,
      body: bodyOf(junk),
    }),
    numRuns: 400,
  },
];

/** Requests that are valid but for the one value a finding is about. */
const SMALL_QUERY = { metric_types: ['ticket_count'], period: '7d' };
const get = (path: string, query: Pair<string>[]): FuzzRequest => ({
  method: 'GET',
  path,
  query: encodeQuery(query),
  headers: {},
  auth: 'admin',
});
const post = (method: string, path: string, json: unknown): FuzzRequest => ({
  method,
  path,
  query: '',
  headers: {},
  auth: 'admin',
  body: body(JSON.stringify(json)),
});

/**
 * Inputs this fuzzing once found answered with a 5xx or outside the §1 shape,
 * each pinned by a property of its own that sends that kind of input (more of
 * it than the general properties do) and expects a 4xx in the error shape.
 */
const FINDINGS: Endpoint[] = [
  {
    // The router answers some paths before any hook: percent-escapes that do not decode (400) and
    // path parameters over 100 characters (414). Both once came without code or request_id.
    name: 'paths the router refuses (undecodable escapes, overlong ids)',
    request: fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'),
        fc.constantFrom(
          `${V1}/tickets/`,
          `${V1}/analytics/time-series/`,
          `${V1}/analytics/distribution/`,
          '/wallboard/',
          '/',
        ),
        fc.oneof(
          fc.constantFrom(...BAD_ESCAPES).map((escape) => `1${escape}`),
          fc.integer({ min: 1, max: 5_000 }).map((length) => 'a'.repeat(length)),
        ),
        headersArb,
      )
      .map(([method, prefix, rest, headers]): FuzzRequest => ({
        method,
        path: `${prefix}${rest}`,
        query: '',
        headers,
        auth: 'admin',
      })),
    numRuns: 150,
  },
  {
    // A deeply nested JSON body (some 1,300 levels, at the top or in any property) once overflowed
    // the stack while it became a DTO (class-transformer): 500. Now refused before that.
    name: 'deeply nested JSON bodies',
    request: fc
      .tuple(
        fc.constantFrom(...BODY_ROUTES),
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom('array', 'object'),
        fc.constantFrom(null, 'tickets', 'metric_types', 'filters', 'nested'),
      )
      .map(([[method, route], depth, shape, key]): FuzzRequest => {
        const nested =
          shape === 'array'
            ? `${'['.repeat(depth)}${']'.repeat(depth)}`
            : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        return {
          method,
          path: `${V1}${route.replace('{id}', fixture.ticketId)}`,
          query: '',
          headers: {},
          auth: 'admin',
          body: body(key === null ? nested : `{"${key}":${nested}}`),
        };
      }),
    numRuns: 150,
  },
  {
    // A well-formed cursor whose timestamp lies before 4713 BC (PostgreSQL's earliest) once reached
    // the query and failed there ("timestamp out of range"): 500 where a 400 is due.
    name: 'cursors with timestamps PostgreSQL cannot hold',
    request: fc
      .tuple(fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }), fc.uuid().map(String))
      .map(([createdAt, id]): FuzzRequest => ({
        method: 'GET',
        path: `${V1}/tickets`,
        query: encodeQuery([['cursor', cursorOf(createdAt.toISOString(), id)]]),
        headers: {},
        auth: 'admin',
      })),
    numRuns: 150,
  },
  {
    // A request head over Node's 16 KB limit (a long URL, header or token) is answered before the
    // app (431); it once came without code, request_id or X-Request-Id.
    name: 'oversized request heads',
    request: fc
      .tuple(fc.constantFrom('query', 'header', 'authorization'), fc.integer({ min: 1_000, max: 40_000 }))
      .map(([where, length]): FuzzRequest => ({
        method: 'GET',
        path: `${V1}/tickets`,
        query: where === 'query' ? `?cursor=${'x'.repeat(length)}` : '',
        headers: where === 'header' ? { 'x-fuzz': 'x'.repeat(length) } : {},
        auth: where === 'authorization' ? { authorization: `Bearer ${'x'.repeat(length)}` } : 'admin',
      })),
    numRuns: 100,
  },
  {
    // A NUL character (U+0000) in a text value that reaches PostgreSQL (a filter value, external_id,
    // assignee_id) once failed the query: 500 on every route below.
    name: 'NUL characters in text values',
    request: fc
      .tuple(
        fc.constantFrom<((value: string) => FuzzRequest)[]>(
          (v) => get(`${V1}/tickets`, [['assignee_id', v]]),
          (v) =>
            get(`${V1}/analytics/time-series/ticket_count`, [
              ['period', '7d'],
              ['assignee_id', v],
            ]),
          (v) =>
            get(`${V1}/analytics/distribution/status`, [
              ['period', '7d'],
              ['assignee_id', v],
            ]),
          (v) => post('POST', `${V1}/tickets`, buildTicket({ assignee_id: v })),
          (v) => post('POST', `${V1}/tickets`, buildTicket({ external_id: v })),
          (v) => post('POST', `${V1}/tickets/bulk`, { tickets: [buildTicket({ external_id: v })] }),
          (v) => post('PATCH', `${V1}/tickets/${fixture.ticketId}`, { assignee_id: v }),
          (v) => post('POST', `${V1}/analytics/aggregations`, { ...SMALL_QUERY, filters: { assignee_id: [v] } }),
          (v) =>
            post('POST', `${V1}/analytics/export`, { ...SMALL_QUERY, format: 'csv', filters: { assignee_id: [v] } }),
        ),
        fc.string({ maxLength: 5 }),
        fc.string({ maxLength: 5 }),
      )
      .map(([request, before, after]) => request(`${before}\u0000${after}`)),
    numRuns: 100,
  },
];

// ── tokens ───────────────────────────────────────────────────────────────────

const NOW_SECONDS = Math.floor(NOW / 1000);
const encodePart = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT with any header and claims, HMAC-signed (or not, for `alg: none`). */
function forgeToken(alg: string, claims: Record<string, unknown>, secret: string): string {
  const signed = `${encodePart({ alg, typ: 'JWT' })}.${encodePart(claims)}`;
  if (alg === 'none') return `${signed}.`;
  const hash = alg === 'HS512' ? 'sha512' : 'sha256';
  return `${signed}.${createHmac(hash, secret).update(signed).digest('base64url')}`;
}

/** What API.md §1 says of a token: refused (401), accepted, or not said (a missing `sub`, an unsafe integer). */
type Verdict = 'refused' | 'accepted' | 'either';
interface FuzzToken {
  readonly token: string;
  readonly verdict: Verdict;
}

function verdictOf(alg: string, secret: string, claims: Record<string, unknown>): Verdict {
  const { exp, org_id: org, role, sub } = claims;
  if (alg !== 'HS256' || secret !== JWT_SECRET) return 'refused';
  if (typeof exp !== 'number' || exp <= NOW_SECONDS) return 'refused';
  if (typeof role !== 'string' || !ROLES.includes(role)) return 'refused';
  if (typeof org !== 'number' || !Number.isInteger(org) || org <= 0) return 'refused';
  return Number.isSafeInteger(org) && typeof sub === 'string' && sub.length > 0 ? 'accepted' : 'either';
}

const claimOf = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 1, arbitrary: smallJunk },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
const tokenArb = (organizationId: () => number): fc.Arbitrary<FuzzToken> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.oneof({ weight: 5, arbitrary: fc.constant('HS256') }, fc.constantFrom('none', 'HS512', 'RS256', 'hs256')),
          fc.record({
            sub: claimOf(fc.constant('fuzz')),
            org_id: claimOf(
              fc.oneof(later(organizationId), fc.constantFrom(0, -1, 1.5, 2 ** 53, 1e308), fc.integer({ min: 1 })),
            ),
            role: claimOf(fc.constantFrom(...ROLES, 'superadmin', 'Admin', '')),
            exp: claimOf(
              fc.oneof(
                fc.integer({ min: 3600, max: 10 ** 8 }).map((s) => NOW_SECONDS + s),
                fc.integer({ min: 60, max: 10 ** 8 }).map((s) => NOW_SECONDS - s),
                fc.constant(1e308),
              ),
            ),
          }),
          fc.oneof({ weight: 5, arbitrary: fc.constant(JWT_SECRET) }, fc.constantFrom('another-secret', '')),
        )
        .map(([alg, claims, secret]) => {
          const defined = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
          return { token: forgeToken(alg, defined, secret), verdict: verdictOf(alg, secret, defined) };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(ascii, fc.constantFrom('', 'null', 'a.b.c', '..', `${encodePart({ alg: 'HS256' })}..`, 'e'.repeat(4000)))
        .map((token): FuzzToken => ({ token, verdict: 'refused' })),
    },
  );
/** How the token sits in the Authorization header, and whether that alone refuses it. */
const SCHEMES: readonly [string, Verdict | null][] = [
  ['Bearer ', null],
  ['bearer ', 'either'],
  ['Bearer  ', 'either'],
  ['Basic ', 'refused'],
  ['', 'refused'],
];

// ── running ──────────────────────────────────────────────────────────────────

const counts = { http: 0, socket: 0 };
const perProperty: Record<string, number> = {};
/** Per property, how the cases were answered (HTTP status, ack kind): shows how deep the fuzzing got. */
const outcomes: Record<string, Record<string, number>> = {};
const failures: string[] = [];

/** Runs one property to its case count or time budget; counts the cases actually run. */
async function fuzz<T>(
  name: string,
  kind: keyof typeof counts,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<string>,
  numRuns: number,
  budgetMs: number,
  wanted?: (value: T) => boolean,
): Promise<void> {
  perProperty[name] = 0;
  const seen: Record<string, number> = (outcomes[name] = {});
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        if (wanted) fc.pre(wanted(value));
        counts[kind] += 1;
        perProperty[name] += 1;
        const outcome = await predicate(value);
        seen[outcome] = (seen[outcome] ?? 0) + 1;
      }),
      { numRuns, plugins: [fc.interruptAfterTimeLimit(budgetMs)] },
    );
  } catch (error) {
    failures.push(name);
    throw error;
  }
}

/** The promise's value, or 'hang' when it takes longer than HANG_MS. */
async function within<T>(promise: Promise<T>): Promise<T | 'hang'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), HANG_MS);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Time for one property: its budget, one case hanging to the end, and some shrinking. */
const itTimeout = (budgetMs: number) => budgetMs + 4 * HANG_MS;

describe('fuzzing bad input (API.md §1: never a 5xx, never a hang, always the error shape)', () => {
  let server: TestApp;
  let organizationId: number;
  let tokens: Record<string, string>;
  let live: TestSocket;
  const dropped: string[] = [];
  const exceptions: unknown[] = [];
  const started = Date.now();

  beforeAll(async () => {
    server = await startApp();
    organizationId = newOrganizationId();
    tokens = Object.fromEntries(ROLES.map((role) => [role, tokenFor(organizationId, role as Role)]));
    const api = new Api(server.url, tokens.admin);
    for (let i = 0; i < 3; i += 1) {
      const created = await api.post(
        `${V1}/tickets`,
        buildTicket({ created_at: new Date(NOW - i * DAY).toISOString() }),
      );
      expect(created.status, created.text).toBe(201);
      fixture.ticketId ||= created.body.id;
    }
    const page = await api.get(`${V1}/tickets?limit=1`);
    fixture.cursor = page.body.next_cursor;
    const series = await api.get(`${V1}/analytics/time-series/ticket_count?period=7d`);
    fixture.etag = series.headers.get('etag') ?? '"none"';
    expect(fixture.cursor && fixture.etag).toBeTruthy();

    fixture.viewerToken = tokens.viewer;
    live = new TestSocket(server.url, tokens.viewer);
    live.socket.on('disconnect', (reason) => dropped.push(reason));
    live.socket.on('exception', (payload: unknown) => exceptions.push(payload));
    await live.connected();
  });

  afterAll(async () => {
    live?.socket.off('disconnect');
    live?.close();
    await server?.close();
    const summary = {
      http_cases: counts.http,
      socket_cases: counts.socket,
      failures: failures.length,
      failed_properties: failures,
      cases_per_property: perProperty,
      outcomes,
      duration_ms: Date.now() - started,
    };
    console.log(`fuzz: ${counts.http} HTTP cases, ${counts.socket} socket cases, ${failures.length} failures`);
    await mkdir(dirname(SUMMARY_FILE), { recursive: true });
    await writeFile(SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
  });

  function authorization(auth: Auth): Record<string, string> {
    if (auth === 'none') return {};
    if (typeof auth === 'object') return auth;
    return { authorization: `Bearer ${tokens[auth]}` };
  }

  /** Sends a request; a response not complete within HANG_MS fails as a hang. */
  async function send(request: FuzzRequest): Promise<HttpResult> {
    // fetch refuses a body on GET and HEAD.
    const payload = ['GET', 'HEAD'].includes(request.method) ? undefined : request.body;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${server.url}${request.path}${request.query}`, {
        method: request.method,
        headers: {
          ...authorization(request.auth),
          ...(payload ? { 'content-type': payload.type ?? 'application/json' } : {}),
          ...request.headers,
        },
        body: payload?.text,
        redirect: 'manual',
        signal: AbortSignal.timeout(HANG_MS),
      });
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new Error(`hang: no complete response within ${HANG_MS} ms`, { cause: error });
      }
      throw new Error(`no response: ${String(error)} (${String((error as Error).cause)})`, { cause: error });
    }
    const json = (response.headers.get('content-type') ?? '').includes('json') && text.length > 0;
    return { status: response.status, headers: response.headers, body: json ? JSON.parse(text) : text, text };
  }

  /** The contract for any request: below 500, and every 4xx (but HEAD's, which has no body) in the §1 shape. */
  function expectAnswered(request: FuzzRequest, res: HttpResult): string {
    expect(res.status, `${res.status} ${res.text.slice(0, 500)}`).toBeLessThan(500);
    if (res.status >= 400 && request.method !== 'HEAD') expectError(res, res.status);
    return String(res.status);
  }

  const fuzzEndpoint = (endpoint: Endpoint) => {
    const budgetMs = endpoint.numRuns * (endpoint.msPerCase ?? MS_PER_CASE);
    it(
      endpoint.name,
      async () => {
        await fuzz(
          endpoint.name,
          'http',
          endpoint.request.map(printable),
          async (request) => expectAnswered(request, await send(request)),
          endpoint.numRuns,
          budgetMs,
        );
      },
      itTimeout(budgetMs),
    );
  };

  for (const endpoint of ENDPOINTS) fuzzEndpoint(endpoint);

  describe('inputs that once got a 5xx or an unshaped error', () => {
    for (const endpoint of FINDINGS) fuzzEndpoint(endpoint);
  });

  it(
    'bad tokens: 401 over HTTP and connect_error "unauthorized" at the socket handshake',
    async () => {
      const cases = fc.tuple(
        tokenArb(() => organizationId),
        fc.constantFrom(...SCHEMES),
      );
      await fuzz(
        'tokens (HTTP and handshake)',
        'http',
        cases,
        async ([{ token, verdict }, [scheme, schemeVerdict]]) => {
          const request: FuzzRequest = {
            method: 'GET',
            path: `${V1}/analytics/cache/stats`,
            query: '',
            headers: {},
            auth: { authorization: `${scheme}${token}` },
          };
          const res = await send(request);
          const overHttp =
            schemeVerdict === 'refused' ? 'refused' : verdict === 'accepted' ? (schemeVerdict ?? verdict) : verdict;
          if (overHttp === 'refused') expectError(res, 401);
          else expectAnswered(request, res);
          if (overHttp === 'accepted') expect(res.status, res.text).not.toBe(401);

          counts.socket += 1;
          const socket = new TestSocket(server.url, token);
          try {
            const handshake = await within(
              socket.connected().then(
                () => 'connected',
                (error: Error) => error.message,
              ),
            );
            if (verdict === 'refused') expect(handshake).toBe('unauthorized');
            else if (verdict === 'accepted') expect(handshake).toBe('connected');
            else expect(['connected', 'unauthorized']).toContain(handshake);
            return `${verdict} token, ${JSON.stringify(scheme)}: ${res.status}, ${handshake}`;
          } finally {
            socket.close();
          }
        },
        200,
        3_000,
      );
    },
    itTimeout(3_000),
  );

  describe('socket messages on /analytics', () => {
    const KNOWN_EVENTS = ['subscribe', 'unsubscribe', 'ping'];
    const subscribeFields: Params<unknown> = {
      metrics: metricList,
      interval: fc.oneof(
        fc.integer({ min: 1, max: 3600 }),
        fc.constantFrom(0, -1, 3601, 1.5, 2 ** 53, 1e308, '30', null),
        junk,
      ),
      granularity: jsonOf(GRANULARITIES),
      window: jsonOf(WINDOWS),
      timezone: fc.oneof(zoneText, junk),
      filters: filtersJson,
    };
    const payload: fc.Arbitrary<unknown> = fc.oneof(
      {
        weight: 6,
        arbitrary: objectOf(
          subscribeFields,
          [
            { metrics: ['ticket_count'], window: '1h' },
            {
              metrics: METRICS,
              interval: 5,
              granularity: 'daily',
              window: '30d',
              timezone: 'Europe/Berlin',
              filters: { priority: ['high'], assignee_id: ['unassigned'] },
            },
          ],
          fc.record(
            {
              metrics: fc.subarray(METRICS, { minLength: 1 }),
              interval: fc.integer({ min: 1, max: 3600 }),
              granularity: fc.constantFrom('hourly', 'daily', 'weekly'),
              window: fc.constantFrom(...WINDOWS),
              timezone: fc.constantFrom(...VALID_ZONES),
              filters: fc.record(
                { status: fc.subarray(STATUSES), channel: fc.subarray(['email', 'chat']) },
                { requiredKeys: [] },
              ),
            },
            { requiredKeys: ['metrics'] },
          ),
        ),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<unknown>(
          undefined,
          'x'.repeat(100_000),
          JSON.parse(`${'['.repeat(500)}${']'.repeat(500)}`),
        ),
      },
    );
    const message = fc.record({
      event: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...KNOWN_EVENTS) },
        {
          weight: 1,
          arbitrary: fc.oneof(
            fc.constantFrom(
              ...[
                ['Subscribe', 'subscribe ', 'pong', 'exception', 'connected', 'metric_update', 'periodic_update'],
                ['subscription_data', 'tickets_committed', 'error', '__proto__', 'constructor', 'toString', ''],
                ['message', 'join', 'leave', 'emit', 'a'.repeat(1000)],
              ].flat(),
            ),
            text.filter((name) => !RESERVED_EVENTS.includes(name)),
          ),
        },
      ),
      args: fc.oneof(
        { weight: 5, arbitrary: payload.map((p) => [p]) },
        { weight: 1, arbitrary: fc.constant<unknown[]>([]) },
        { weight: 1, arbitrary: fc.array(payload, { minLength: 2, maxLength: 3 }) },
      ),
      ack: fc.boolean(),
    });

    /** Every exception the socket received has the §5 shape. */
    let checkedExceptions = 0;
    const expectExceptionsShaped = () => {
      for (const e of exceptions.slice(checkedExceptions)) {
        expect(e).toEqual({ status: 'error', message: expect.stringMatching(/\S/) });
      }
      checkedExceptions = exceptions.length;
    };

    /** Sends with an ack and checks the reply (and, for a refused subscribe, its exception). */
    async function expectAck(event: string, args: unknown[]): Promise<string> {
      const reply = await live.socket.timeout(HANG_MS).emitWithAck(event, ...args);
      if (event === 'subscribe') {
        if (reply?.ok === true) {
          expect(reply).toEqual({ ok: true, subscription: expect.objectContaining({ metrics: expect.any(Array) }) });
          return 'subscribe: ok';
        }
        expect(reply).toEqual({ ok: false, error: expect.stringMatching(/\S/) });
        await live.next('exception', (e: { message: string }) => e.message === reply.error, HANG_MS);
        return 'subscribe: refused';
      }
      if (event === 'unsubscribe') expect(reply).toEqual({ ok: true });
      else expect(Date.parse(reply.timestamp)).not.toBeNaN();
      return `${event}: ok`;
    }

    it(
      'every client event, with and without ack, and unknown events: no drop, shaped errors, still answers ping',
      async () => {
        const budgetMs = 6_000;
        await fuzz(
          'socket messages',
          'socket',
          message.map(printable),
          async ({ event, args, ack }) => {
            live.events.length = 0;
            let outcome = KNOWN_EVENTS.includes(event) ? `${event}: no ack` : 'unknown event';
            if (ack && KNOWN_EVENTS.includes(event)) outcome = await expectAck(event, args);
            else live.socket.emit(event, ...args);
            const pong = await live.socket.timeout(HANG_MS).emitWithAck('ping');
            expect(Date.parse(pong.timestamp)).not.toBeNaN();
            expect(dropped).toEqual([]);
            expect(live.socket.connected).toBe(true);
            expectExceptionsShaped();
            return outcome;
          },
          2_500,
          budgetMs,
        );
        await live.socket.timeout(HANG_MS).emitWithAck('unsubscribe');
      },
      itTimeout(6_000),
    );
  });
});
