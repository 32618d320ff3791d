import { DataSource } from 'typeorm';
import { parseConfig } from '../config/app-config.js';
import { buildDataSourceOptions } from './database-options.js';
import { poolOf, poolUsage } from './pg-pool.js';

/**
 * `poolOf` reads a field TypeORM does not document; this fails if TypeORM
 * stops keeping its pg Pool there, or keeps one that is not the pool its
 * queries use.
 */
describe('the pg Pool under a TypeORM data source', () => {
  let db: DataSource;

  beforeAll(async () => {
    db = new DataSource(buildDataSourceOptions(parseConfig({ ...process.env, DATABASE_POOL_SIZE: '2' })));
    await db.initialize();
  });
  afterAll(() => db.destroy());

  it('is the pool the data source queries through, and its usage reads busy when callers wait', async () => {
    expect(poolOf(db).options.max).toBe(2);
    const runners = [db.createQueryRunner(), db.createQueryRunner()];
    await Promise.all(runners.map((runner) => runner.connect()));
    try {
      expect(poolUsage(db)).toMatchObject({ total: 2, max: 2, idle: 0, waiting: 0, busy: true });
      const queued = db.query('SELECT 1 AS one');
      await expect.poll(() => poolUsage(db)).toMatchObject({ waiting: 1, busy: true });
      await runners[0].release();
      await expect(queued).resolves.toEqual([{ one: 1 }]);
    } finally {
      await Promise.all(runners.map((runner) => runner.release()));
    }
    expect(poolUsage(db)).toMatchObject({ total: 2, idle: 2, waiting: 0, busy: false });
  });
});
