import { API_ENDPOINTS } from '../support/endpoints.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Role } from '../../src/auth/auth.types.js';
import { startApp, type TestApp } from '../support/app.js';

/** API.md §6: `/docs` and `/docs-json` describe every endpoint, publicly and without the CLI plugin. */

type Json = Record<string, any>;

/**
 * The value sets of API.md, copied from its text rather than imported from
 * the source, so a value dropped or added in the code shows up here.
 */
const METRIC_TYPES = ['ticket_count', 'response_time', 'resolution_time', 'sentiment_score']; // §3
const GRANULARITIES = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly']; // §1 Granularity
const DIMENSION_NAMES = ['status', 'priority', 'channel', 'category', 'assignee_id']; // §1 Dimensions
const STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed']; // §2
const PRIORITIES = ['low', 'medium', 'high', 'urgent']; // §2
const PERIODS = ['24h', '7d', '30d', '90d']; // §1 Time
const SLUG_PATTERN = '^[a-z0-9_-]{1,64}$'; // §2
const CACHE_RESULTS = ['HIT', 'MISS', 'BYPASS', 'ERROR']; // §1 Caching
const CACHE_SECTIONS = ['time-series', 'aggregations', 'dashboard', 'performance', 'distribution']; // §4.7

/** Every enum of the document by the parameter, property or header it belongs to, as API.md lists it. */
const API_ENUMS: Readonly<Record<string, readonly string[]>> = {
  metric_type: METRIC_TYPES,
  metric_types: METRIC_TYPES,
  granularity: GRANULARITIES,
  field: DIMENSION_NAMES,
  group_by: DIMENSION_NAMES,
  status: STATUSES,
  priority: PRIORITIES,
  period: PERIODS,
  accuracy: ['exact', 'approximate'], // §4.4
  format: ['csv', 'json', 'xlsx', 'excel'], // §4.6
  pattern: ['all', ...CACHE_SECTIONS, ...METRIC_TYPES], // §4.7
  'X-Cache': CACHE_RESULTS,
};

/** Enums of schemas the contract shapes differently, or leaves to the implementation (README). */
const SCHEMA_ENUMS: Readonly<Record<string, readonly string[]>> = {
  // The export's metadata echoes the normalized request: `excel` means `xlsx` (§4.6).
  'ExportMetadataDto.format': ['csv', 'json', 'xlsx'],
  'HealthResponseDto.status': ['ok', 'degraded', 'error', 'shutting_down'],
  'HealthCheckDto.status': ['up', 'down'],
  'DatabaseCheckDto.status': ['up', 'down'],
  // §6: a busy pool is not an unreachable database.
  'DatabaseCheckDto.pool': ['ready', 'busy'],
  // The wallboard's settings (README, "Wallboard"): the windows of §5's subscribe, and its two themes.
  'get /wallboard window': ['1h', '24h', '7d', '30d'],
  'get /wallboard theme': ['dark', 'light'],
};
/** Enums API.md leaves open: §1 asks only that an error's `code` be a stable string. */
const OPEN_ENUMS = new Set(['Error.code']);

const ERROR_REF = '#/components/schemas/Error';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every endpoint of API.md §2–§4 and §6 that the service has, as the document must list it. */
const SECURED = API_ENDPOINTS;
const PUBLIC = ['get /health', 'get /metrics', 'get /wallboard'];

const CACHED_GETS = [
  'get /api/v1/analytics/time-series/{metric_type}',
  'get /api/v1/analytics/dashboard',
  'get /api/v1/analytics/performance',
  'get /api/v1/analytics/distribution/{field}',
];

/** Operations whose role is above viewer (every valid token is a viewer), and so may answer 403. */
const ROLES: Record<string, Role> = {
  'post /api/v1/tickets': 'agent',
  'post /api/v1/tickets/bulk': 'agent',
  'patch /api/v1/tickets/{id}': 'agent',
  'delete /api/v1/analytics/cache': 'admin',
  'post /api/v1/analytics/refresh-cache': 'admin',
  'get /api/v1/analytics/cache/stats': 'admin',
};

describe('OpenAPI document and UI', () => {
  let server: TestApp;
  let doc: Json;
  let operations: Map<string, Json>;

  beforeAll(async () => {
    server = await startApp();
    const res = await fetch(`${server.url}/docs-json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    doc = (await res.json()) as Json;
    operations = new Map(
      Object.entries(doc.paths as Json).flatMap(([path, item]) =>
        Object.entries(item as Json)
          .filter(([method]) => HTTP_METHODS.includes(method))
          .map(([method, operation]) => [`${method} ${path}`, operation as Json] as const),
      ),
    );
  });
  afterAll(() => server.close());

  const operation = (key: string): Json => {
    const found = operations.get(key);
    expect(found, key).toBeDefined();
    return found!;
  };
  const parameter = (key: string, name: string): Json => {
    const found = (operation(key).parameters as Json[]).find((p) => p.name === name);
    expect(found, `${key} parameter ${name}`).toBeDefined();
    return found!;
  };
  /** The schema a `$ref` points at, or the schema itself. */
  const resolve = (schema: Json): Json => {
    // A described reference is written `allOf: [{$ref}]` beside its description.
    if (schema.allOf?.length === 1) return resolve(schema.allOf[0]);
    if (!schema.$ref) return schema;
    return doc.components.schemas[(schema.$ref as string).replace('#/components/schemas/', '')] as Json;
  };

  it('is a valid OpenAPI 3 document whose references all resolve', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is served without a token, at the root', async () => {
    const res = await fetch(`${server.url}/api/v1/docs-json`);
    expect(res.status).toBe(404);
  });

  it('lists every endpoint of the contract', () => {
    expect([...operations.keys()].sort()).toEqual(expect.arrayContaining([...SECURED, ...PUBLIC].sort()));
  });

  it('documents every operation explicitly: operationId, summary, a declared tag, a described 2xx', () => {
    const tags = new Set((doc.tags as Json[]).map((t) => t.name));
    const ids = new Set<string>();
    for (const [key, op] of operations) {
      expect(op.operationId, key).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId), `duplicate operationId ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      expect(op.summary, key).toBeTruthy();
      expect(op.tags?.length, key).toBe(1);
      expect(tags.has(op.tags[0]), `${key} tag ${op.tags[0]}`).toBe(true);
      const success = Object.entries(op.responses as Json).filter(([status]) => /^2\d\d$/.test(status));
      expect(success.length, key).toBe(1);
      expect(success[0][1].description, key).toBeTruthy();
    }
  });

  it('requires the bearer token everywhere but /health and /metrics, and names the role', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(doc.security ?? []).toEqual([]);
    for (const [key, op] of operations) {
      if (PUBLIC.includes(key)) {
        expect(op.security ?? [], key).toEqual([]);
        expect(op.responses['401'], key).toBeUndefined();
        continue;
      }
      expect(op.security, key).toEqual([{ bearer: [] }]);
      expect(op.responses['401'], key).toBeDefined();
      // Every authenticated route counts against the rate limits.
      expect(op.responses['429']?.headers?.['Retry-After'], key).toBeDefined();
      const role = ROLES[key] ?? 'viewer';
      expect(op.description, key).toContain(`Required role: \`${role}\``);
      if (role === 'viewer') expect(op.responses['403'], key).toBeUndefined();
      else expect(op.responses['403'], key).toBeDefined();
    }
  });

  it('answers every 4xx with the one Error schema', () => {
    const error = doc.components.schemas.Error as Json;
    expect(error.required).toEqual(expect.arrayContaining(['statusCode', 'error', 'message', 'code', 'request_id']));
    expect(error.properties.message.oneOf).toEqual([{ type: 'string' }, { type: 'array', items: { type: 'string' } }]);
    let count = 0;
    for (const [key, op] of operations) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        if (!status.startsWith('4')) continue;
        count += 1;
        expect(response.content?.['application/json']?.schema, `${key} ${status}`).toEqual({ $ref: ERROR_REF });
      }
    }
    expect(count).toBeGreaterThan(SECURED.length * 2);
  });

  it('declares X-Cache, ETag and 304 on every cached analytics GET', () => {
    for (const key of CACHED_GETS) {
      const { responses } = operation(key);
      for (const status of ['200', '304']) {
        expect(responses[status]?.headers?.['X-Cache']?.schema?.enum, `${key} ${status}`).toEqual(CACHE_RESULTS);
        expect(responses[status].headers.ETag, `${key} ${status}`).toBeDefined();
      }
      expect(responses['304'].content, key).toBeUndefined();
      expect(parameter(key, 'If-None-Match').in).toBe('header');
      expect(parameter(key, 'use_cache').schema).toMatchObject({ type: 'boolean' });
      expect(parameter(key, 'timezone').schema).toMatchObject({ type: 'string' });
      expect(parameter(key, 'period').schema.enum).toEqual(PERIODS);
      for (const bound of ['start_date', 'end_date']) {
        expect(parameter(key, bound).schema).toMatchObject({ type: 'string', format: 'date-time' });
      }
    }
    const aggregations = operation('post /api/v1/analytics/aggregations').responses;
    expect(aggregations['200'].headers['X-Cache']).toBeDefined();
    expect(aggregations['304']).toBeUndefined();
  });

  it('declares X-Request-Id on every response', () => {
    expect(doc.components.headers['X-Request-Id']).toBeDefined();
    for (const [key, op] of operations) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        expect(response.headers?.['X-Request-Id'], `${key} ${status}`).toEqual({
          $ref: '#/components/headers/X-Request-Id',
        });
      }
    }
  });

  it('gives path parameters and filters their enums, and filters the form style', () => {
    const timeSeries = 'get /api/v1/analytics/time-series/{metric_type}';
    expect(parameter(timeSeries, 'metric_type')).toMatchObject({ in: 'path', required: true });
    expect(parameter(timeSeries, 'metric_type').schema.enum).toEqual(METRIC_TYPES);
    expect(parameter(timeSeries, 'granularity').schema.enum).toEqual(GRANULARITIES);
    expect(parameter('get /api/v1/analytics/distribution/{field}', 'field').schema.enum).toEqual(DIMENSION_NAMES);
    expect(parameter('get /api/v1/tickets/{id}', 'id').schema).toMatchObject({ type: 'string', format: 'uuid' });
    expect(parameter('get /api/v1/tickets', 'limit').schema).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 500,
    });

    for (const key of ['get /api/v1/tickets', timeSeries, 'get /api/v1/analytics/distribution/{field}']) {
      for (const dimension of DIMENSION_NAMES) {
        const filter = parameter(key, dimension);
        expect(filter, `${key} ${dimension}`).toMatchObject({ in: 'query', style: 'form', explode: true });
        expect(filter.schema.type).toBe('array');
      }
      expect(parameter(key, 'status').schema.items.enum).toEqual(STATUSES);
      expect(parameter(key, 'priority').schema.items.enum).toEqual(PRIORITIES);
      expect(parameter(key, 'channel').schema.items.pattern).toBe(SLUG_PATTERN);
      expect(parameter(key, 'category').schema.items.pattern).toBe(SLUG_PATTERN);
    }
  });

  it('gives every enum of the document the values API.md lists for it, in its order', () => {
    const seen: string[] = [];
    const check = (where: string, name: string, values: unknown) => {
      if (OPEN_ENUMS.has(where)) return;
      const expected = SCHEMA_ENUMS[where] ?? API_ENUMS[name];
      expect(expected, `${where}: an enum API.md does not list`).toBeDefined();
      expect(values, where).toEqual(expected);
      seen.push(where);
    };
    /** The enum of a schema, or of the items of an array schema. */
    const enumOf = (schema: Json | undefined): unknown => schema?.enum ?? schema?.items?.enum;

    for (const [name, schema] of Object.entries(doc.components.schemas as Json)) {
      for (const [property, propertySchema] of Object.entries((schema as Json).properties ?? {})) {
        const values = enumOf(propertySchema as Json);
        if (values) check(`${name}.${property}`, property, values);
      }
    }
    for (const [key, op] of operations) {
      for (const p of (op.parameters ?? []) as Json[]) {
        const values = enumOf(p.schema);
        if (values) check(`${key} ${p.name}`, p.name, values);
      }
      for (const [status, response] of Object.entries(op.responses as Json)) {
        for (const [header, definition] of Object.entries((response as Json).headers ?? {})) {
          const values = enumOf((definition as Json).schema);
          if (values) check(`${key} ${status} ${header}`, header, values);
        }
      }
    }
    // The walk saw the enums it is meant to see.
    expect(seen).toEqual(
      expect.arrayContaining([
        'get /api/v1/analytics/time-series/{metric_type} metric_type',
        'delete /api/v1/analytics/cache pattern',
        'ExportRequestDto.format',
        'AggregationsRequestDto.group_by',
        'CreateTicketDto.status',
      ]),
    );
  });

  it('describes the ticket body with its rules, and the response bodies', () => {
    const body = resolve(operation('post /api/v1/tickets').requestBody.content['application/json'].schema);
    expect(body.properties.status.enum).toEqual(STATUSES);
    expect(body.properties.priority.enum).toEqual(PRIORITIES);
    expect(body.properties.channel.pattern).toBe(SLUG_PATTERN);
    expect(body.properties.category.pattern).toBe(SLUG_PATTERN);
    expect(body.properties.external_id).toMatchObject({ nullable: true, maxLength: 128 });
    expect(body.properties.sentiment_score).toMatchObject({ nullable: true, minimum: -1, maximum: 1 });
    expect(body.properties.resolved_at).toMatchObject({ format: 'date-time', nullable: true });

    const bulk = resolve(operation('post /api/v1/tickets/bulk').requestBody.content['application/json'].schema);
    expect(bulk.properties.tickets).toMatchObject({ type: 'array', minItems: 1, maxItems: 10_000 });

    const okSchema = (key: string) => {
      const { responses } = operation(key);
      const status = Object.keys(responses).find((s) => s.startsWith('2'))!;
      return resolve(responses[status].content['application/json'].schema);
    };
    expect(Object.keys(okSchema('get /api/v1/tickets').properties)).toEqual(['items', 'next_cursor']);
    expect(Object.keys(okSchema('post /api/v1/tickets/bulk').properties)).toEqual(['inserted', 'updated']);
    expect(okSchema('get /api/v1/analytics/time-series/{metric_type}').properties.data_points.type).toBe('array');
    expect(okSchema('post /api/v1/analytics/aggregations').properties.results.type).toBe('array');
    const dashboard = okSchema('get /api/v1/analytics/dashboard');
    expect(dashboard.required).toEqual(
      expect.arrayContaining(['total_tickets', 'current_backlog', 'trend_data', 'queue']),
    );
    const queue = resolve(dashboard.properties.queue);
    const figures = ['unanswered', 'breaching', 'at_risk', 'oldest_unanswered_hours'];
    expect(queue.required).toEqual(expect.arrayContaining(['as_of', ...figures, 'by_priority']));
    expect(queue.properties.oldest_unanswered_hours.nullable).toBe(true);
    const byPriority = resolve(queue.properties.by_priority);
    expect(byPriority.required).toEqual(expect.arrayContaining(['urgent', 'high', 'medium', 'low']));
    expect(resolve(byPriority.properties.urgent).required).toEqual(expect.arrayContaining(figures));
    expect(okSchema('get /api/v1/analytics/performance').required).toContain('sla_compliance_rate');
    expect(okSchema('get /api/v1/analytics/distribution/{field}').required).toContain('distribution');
    expect(okSchema('get /api/v1/analytics/cache/stats').required).toContain('hit_ratio');
    expect(okSchema('get /health').properties.status.enum).toEqual(['ok', 'degraded', 'error', 'shutting_down']);
  });

  it('describes the export: its body, the three file types and Content-Disposition', () => {
    const exportOp = operation('post /api/v1/analytics/export');
    const body = resolve(exportOp.requestBody.content['application/json'].schema);
    expect(body.required).toEqual(expect.arrayContaining(['metric_types', 'format']));
    expect(body.properties.format.enum).toEqual(['csv', 'json', 'xlsx', 'excel']);
    expect(body.properties.include_raw_data).toMatchObject({ type: 'boolean', default: false });
    expect(body.properties.use_cache).toBeUndefined();

    const ok = exportOp.responses['200'];
    expect(Object.keys(ok.content).sort()).toEqual([
      'application/json',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'text/csv',
    ]);
    expect(resolve(ok.content['application/json'].schema).required).toEqual(
      expect.arrayContaining(['metadata', 'series']),
    );
    expect(ok.headers['Content-Disposition']).toBeDefined();
    expect(ok.headers['X-Cache']).toBeUndefined();
    expect(exportOp.responses['400']).toBeDefined();
  });

  it('serves Swagger UI and its assets itself, without a token', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/(src|href)="https?:/);

    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'swagger-ui-init.js']) {
      const res = await fetch(`${server.url}/docs/${asset}`);
      expect(res.status, asset).toBe(200);
      await res.arrayBuffer();
    }
  });
});
