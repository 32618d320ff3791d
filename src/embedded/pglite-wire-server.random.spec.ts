import { PGlite } from '@electric-sql/pglite';
import { text } from 'node:stream/consumers';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import { PgliteWireServer } from './pglite-wire-server.js';
import { mulberry32 } from '../demo/random.js';
import { replaySeed } from '../../test/support/replay-seed.js';

const PASSWORD = 'random-spec-password';
const OPERATIONS = 3_000;
const CLIENTS_PER_POOL = 10;
const OPERATION_TIMEOUT_MS = 20_000;
/** Set WIRE_RANDOM_SEED to replay a failed run. */
const SEED = replaySeed('WIRE_RANDOM_SEED');

/**
 * Two pools of ten, as the app's write and analytics pools, run random
 * statements, transactions, cursors, COPYs and errors at once through one
 * PGlite; every answer is checked against what that client alone should have
 * seen. Each lane owns a counter row, so its expected values do not depend on
 * how the lanes interleave: a wrong row, a lost portal or a hang is the
 * server mixing connections up.
 */
describe('PgliteWireServer under two concurrent pools', () => {
  let db: PGlite;
  let server: PgliteWireServer;
  let pools: pg.Pool[];

  beforeAll(async () => {
    db = await PGlite.create();
    server = new PgliteWireServer(db, { password: PASSWORD });
    const port = await server.listen(0, '127.0.0.1');
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
    pools = [0, 1].map(() => new pg.Pool({ connectionString: url, max: CLIENTS_PER_POOL }));
    const lanes = 2 * CLIENTS_PER_POOL;
    await pools[0].query('CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)');
    await pools[0].query('INSERT INTO counters SELECT g, 0 FROM generate_series(0, $1::int - 1) g', [lanes]);
  });
  afterAll(async () => {
    await Promise.all(pools?.map((p) => p.end()) ?? []);
    await server?.close();
    await db?.close();
  });

  it(`answers ${OPERATIONS} random operations over ${2 * CLIENTS_PER_POOL} connections as one client each would see them (seed ${SEED})`, async () => {
    const failures: string[] = [];
    const lanes = 2 * CLIENTS_PER_POOL;
    const perLane = OPERATIONS / lanes;
    const counts: number[] = Array.from({ length: lanes }, () => 0);

    const run = async (lane: number) => {
      const pool = pools[lane % 2];
      const random = mulberry32(SEED + lane);
      for (let i = 0; i < perLane; i++) {
        const kind = OPERATION_KINDS[Math.floor(random() * OPERATION_KINDS.length)];
        const args = { pool, lane, random, counts };
        try {
          const problem = await withTimeout(OPERATIONS_BY_KIND[kind](args), OPERATION_TIMEOUT_MS);
          if (problem) failures.push(`lane ${lane} op ${i} ${kind}: ${problem}`);
        } catch (error) {
          failures.push(`lane ${lane} op ${i} ${kind}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: lanes }, (_, lane) => run(lane)));
    expect(failures.slice(0, 10), `seed ${SEED}: ${failures.length} wrong answers`).toEqual([]);
    const { rows } = await pools[1].query<{ id: number; n: number }>('SELECT id, n FROM counters ORDER BY id');
    expect(rows.map((r) => r.n)).toEqual(counts);
  }, 60_000);
});

interface OperationArgs {
  readonly pool: pg.Pool;
  readonly lane: number;
  readonly random: () => number;
  readonly counts: number[];
}

/** Each returns null when the answer is right, else what was wrong. */
const OPERATIONS_BY_KIND = {
  async echo({ pool, random }: OperationArgs) {
    const value = `é'"\\ ${Math.floor(random() * 1e9)}`;
    const n = Math.floor(random() * 1e6);
    const { rows } = await pool.query('SELECT $1::text AS value, $2::int AS n', [value, n]);
    return same(rows, [{ value, n }]);
  },
  async simpleMulti({ pool, random }: OperationArgs) {
    const a = Math.floor(random() * 1e6);
    const results = (await pool.query(`SELECT ${a} AS a; SELECT ${a} + 1 AS b`)) as unknown as pg.QueryResult[];
    return same(
      results.map((r) => r.rows),
      [[{ a }], [{ b: a + 1 }]],
    );
  },
  async transaction({ pool, lane, random, counts }: OperationArgs) {
    const delta = 1 + Math.floor(random() * 9);
    const commit = random() < 0.7;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query('UPDATE counters SET n = n + $1 WHERE id = $2 RETURNING n', [delta, lane]);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      if (commit) counts[lane] += delta;
      const problem = same(rows, [{ n: counts[lane] + (commit ? 0 : delta) }]);
      if (problem) return problem;
      const { rows: after } = await client.query('SELECT n FROM counters WHERE id = $1', [lane]);
      return same(after, [{ n: counts[lane] }]);
    } finally {
      client.release();
    }
  },
  async failedTransaction({ pool }: OperationArgs) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const division = await client.query('SELECT 1 / $1::int', [0]).catch((e: { code?: string }) => e.code);
      const aborted = await client.query('SELECT 1').catch((e: { code?: string }) => e.code);
      await client.query('ROLLBACK');
      return same([division, aborted], ['22012', '25P02']);
    } finally {
      client.release();
    }
  },
  async cursor({ pool, random }: OperationArgs) {
    const total = 1 + Math.floor(random() * 400);
    const batch = 1 + Math.floor(random() * 50);
    const client = await pool.connect();
    try {
      const cursor = client.query(new Cursor('SELECT g, g * g AS sq FROM generate_series(1, $1::int) g', [total]));
      const seen: { g: number; sq: number }[] = [];
      for (let rows = await cursor.read(batch); rows.length > 0; rows = await cursor.read(batch)) seen.push(...rows);
      await cursor.close();
      return same(
        seen,
        Array.from({ length: total }, (_, i) => ({ g: i + 1, sq: (i + 1) ** 2 })),
      );
    } finally {
      client.release();
    }
  },
  async copyOut({ pool, random }: OperationArgs) {
    const total = 1 + Math.floor(random() * 2_000);
    const client = await pool.connect();
    try {
      const out = await text(client.query(copyStreams.to(`COPY (SELECT generate_series(1, ${total})) TO STDOUT`)));
      return same(out, Array.from({ length: total }, (_, i) => `${i + 1}\n`).join(''));
    } finally {
      client.release();
    }
  },
  async longer({ pool, random }: OperationArgs) {
    const total = 5_000 + Math.floor(random() * 20_000);
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n, sum(g)::bigint AS s FROM generate_series(1, $1::int) g',
      [total],
    );
    return same(rows, [{ n: total, s: String((total * (total + 1)) / 2) }]);
  },
};
type OperationKind = keyof typeof OPERATIONS_BY_KIND;
const OPERATION_KINDS = Object.keys(OPERATIONS_BY_KIND) as OperationKind[];

function same(actual: unknown, expected: unknown): string | null {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  return a === e ? null : `expected ${e.slice(0, 200)}, got ${a.slice(0, 200)}`;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
