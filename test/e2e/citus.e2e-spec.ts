import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { InvalidationOutbox } from '../../src/cache/invalidation-outbox.repository.js';
import type { Scope } from '../../src/cache/cache-scopes.js';
import { buildDataSourceOptions } from '../../src/database/database-options.js';
import { compileTicketRows } from '../../src/metrics/ticket-rows.compiler.js';
import { LiteralParams } from '../../src/export/ticket-rows-copy.js';
import { newOrganizationId, startApp, testConfig, testDatabaseUrl, tokenFor } from '../support/app.js';
import { buildTicket } from '../support/factories.js';
import { Api } from '../support/http.js';
import { CITUS } from '../support/citus.js';
import { ownDatabase } from '../support/database.js';

/**
 * What a database distributed by organization (README "Scaling out") relies
 * on: the outbox replay locks one organization at a time, `citus:distribute`
 * places every organization table with the tickets, and the statements of one
 * organization run on one shard. The replay and the CLI's plain-PostgreSQL
 * answer run on every database; the placement checks need Citus
 * (`npm run test:citus`).
 */
const distribute = () =>
  spawnSync(process.execPath, ['dist/src/cli/citus.js'], {
    env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('the invalidation outbox replay', () => {
  // A database of its own: a replay takes every organization's records, other suites' included.
  let source: DataSource;
  let db: pg.Client;
  let outbox: InvalidationOutbox;

  beforeAll(async () => {
    const url = await ownDatabase('outbox_replay');
    source = new DataSource(buildDataSourceOptions(testConfig({ DATABASE_URL: url })));
    await source.initialize();
    outbox = new InvalidationOutbox(source);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('DELETE FROM cache_invalidation_outbox');
  });
  afterAll(async () => {
    await db.end();
    await source.destroy();
  });

  /** Every call of `apply`, in order. */
  const recorder = () => {
    const calls: [number, string[]][] = [];
    const apply = async (organizationId: number, scopes: Scope[]) => {
      calls.push([Number(organizationId), [...scopes].sort()]);
    };
    return { calls, apply };
  };

  it('applies each organization’s records oldest first, 500 at a time, and deletes them', async () => {
    const [a, b] = [newOrganizationId(), newOrganizationId()];
    // 500 records of a, then one more with a scope of its own, then one of b.
    await db.query(
      `INSERT INTO cache_invalidation_outbox (organization_id, scopes, created_at)
       SELECT $1, ARRAY['metric:ticket_count@m2025-0' || (1 + i % 3)], timestamptz '2025-01-01' + i * interval '1 second'
       FROM generate_series(1, 500) i`,
      [a],
    );
    await db.query(
      `INSERT INTO cache_invalidation_outbox (organization_id, scopes, created_at)
       VALUES ($1, '{current}', '2025-01-02'), ($2, '{org,current}', '2025-01-01')`,
      [a, b],
    );
    const { calls, apply } = recorder();
    expect(await outbox.replay(apply)).toBe(502);
    const ofA = calls.filter(([organization]) => organization === a);
    expect(ofA).toEqual([
      [a, ['metric:ticket_count@m2025-01', 'metric:ticket_count@m2025-02', 'metric:ticket_count@m2025-03']],
      [a, ['current']],
    ]);
    expect(calls.filter(([organization]) => organization === b)).toEqual([[b, ['current', 'org']]]);
    expect(await outbox.isEmpty()).toBe(true);
  });

  it('keeps what it could not apply, and skips the records another replayer holds', async () => {
    const [a, b] = [newOrganizationId(), newOrganizationId()];
    await outbox.add(null, a, ['org']);
    await outbox.add(null, b, ['current']);
    const failing = async (organizationId: number) => {
      if (Number(organizationId) === a) throw new Error('Redis went away');
    };
    await expect(outbox.replay(failing)).rejects.toThrow('Redis went away');
    const left = await db.query(`SELECT organization_id FROM cache_invalidation_outbox WHERE organization_id = $1`, [
      a,
    ]);
    expect(left.rowCount).toBe(1);

    // Another replayer holds a's record: this one takes b's (if still there) and leaves a's.
    await db.query('BEGIN');
    await db.query(`SELECT id FROM cache_invalidation_outbox WHERE organization_id = $1 FOR UPDATE`, [a]);
    try {
      const { calls, apply } = recorder();
      await outbox.replay(apply);
      expect(calls.map(([organization]) => organization)).not.toContain(a);
    } finally {
      await db.query('COMMIT');
    }
    const { calls, apply } = recorder();
    expect(await outbox.replay(apply)).toBe(1);
    expect(calls).toEqual([[a, ['org']]]);
    expect(await outbox.isEmpty()).toBe(true);
  });
});

describe.skipIf(CITUS)('npm run citus:distribute on plain PostgreSQL', () => {
  it('changes nothing and says so', () => {
    const run = distribute();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('no citus extension (plain PostgreSQL): nothing to distribute, nothing changed');
  });
});

describe.skipIf(!CITUS)('a database distributed by citus:distribute', () => {
  let db: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: testDatabaseUrl() });
    await db.connect();
  });
  afterAll(() => db.end());

  it('has every public table with organization_id distributed by it, co-located; migrations stays local', async () => {
    const { rows: expected } = await db.query(
      `SELECT table_name::text AS name FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name = 'organization_id' AND table_name <> 'migrations'
       ORDER BY 1`,
    );
    expect(expected.map((r) => r.name)).toEqual(
      expect.arrayContaining(['cache_invalidation_outbox', 'ticket_rollups', 'tickets']),
    );
    const { rows } = await db.query(
      `SELECT table_name::text AS name, citus_table_type AS type, distribution_column AS column, colocation_id
       FROM citus_tables ORDER BY 1`,
    );
    const distributed = rows.filter((r) => r.type === 'distributed' && r.column === 'organization_id');
    expect(distributed.map((r) => r.name)).toEqual(expected.map((r) => r.name));
    expect(new Set(distributed.map((r) => r.colocation_id)).size).toBe(1);
    expect(rows.map((r) => r.name)).not.toContain('migrations');
  });

  it('runs again as a no-op, naming the tables already distributed', () => {
    const run = distribute();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('already distributed by organization_id: tickets, ');
    expect(run.stdout).toContain('left on the coordinator: migrations');
  });

  /** How many shards the coordinator sends `sql` to. */
  const tasks = async (sql: string, values: unknown[] = []) => {
    const { rows } = await db.query(`EXPLAIN ${sql}`, values);
    const line = rows.map((r) => r['QUERY PLAN'] as string).find((l) => l.includes('Task Count:'));
    return Number(line?.match(/Task Count: (\d+)/)?.[1]);
  };

  it('sends an export’s rows query and the replay’s locking read to one shard', async () => {
    const organizationId = newOrganizationId();
    const query = {
      organizationId,
      start: new Date('2025-03-01T00:00:00Z'),
      end: new Date('2025-04-01T00:00:00Z'),
      filters: { status: ['open', 'pending'] },
    };
    const copy = compileTicketRows(query, { escapeFormulas: true, timestampsAsText: true }, new LiteralParams());
    expect(await tasks(copy.text)).toBe(1);
    expect(
      await tasks(
        `SELECT id, scopes FROM cache_invalidation_outbox WHERE organization_id = $1
         ORDER BY created_at, id LIMIT 500 FOR UPDATE SKIP LOCKED`,
        [organizationId],
      ),
    ).toBe(1);
    // The one read of every organization, for contrast: every shard.
    expect(await tasks('SELECT DISTINCT organization_id FROM cache_invalidation_outbox')).toBeGreaterThan(1);
  });

  it('writes and reads tickets without a statement on every shard', { timeout: 60_000 }, async () => {
    // The service's own connections, with every multi-shard statement an error: a write or read that
    // fanned out would answer 5xx. (The outbox probe, which must read every shard, fails meanwhile.)
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', '-c citus.multi_task_query_log_level=error');
    const server = await startApp({ DATABASE_URL: url.toString() });
    try {
      const api = new Api(server.url, tokenFor(newOrganizationId(), 'agent'));
      const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
      const a = await api.post('/api/v1/tickets', buildTicket({ external_id: 'fan-a', created_at: at(5) }));
      const b = await api.post('/api/v1/tickets', buildTicket({ external_id: 'fan-b', created_at: at(4) }));
      expect([a.status, b.status], a.text + b.text).toEqual([201, 201]);
      const answered = await api.patch(`/api/v1/tickets/${a.body.id}`, {
        first_response_at: at(3),
        status: 'resolved',
        resolved_at: at(2),
      });
      expect(answered.status, answered.text).toBe(200);
      expect((await api.patch(`/api/v1/tickets/${a.body.id}`, { external_id: 'fan-b' })).status).toBe(409);
      const bulk = await api.post('/api/v1/tickets/bulk', {
        tickets: [
          buildTicket({ external_id: 'fan-b', created_at: at(4), first_response_at: at(1) }),
          buildTicket({ external_id: 'fan-c', created_at: at(1) }),
        ],
      });
      expect(bulk.status, bulk.text).toBe(200);
      expect(bulk.body).toEqual({ inserted: 1, updated: 1 });
      const dashboard = await api.get('/api/v1/analytics/dashboard');
      expect(dashboard.status, dashboard.text).toBe(200);
      expect(dashboard.body.total_tickets).toBe(3);
    } finally {
      await server.close();
    }
  });
});
