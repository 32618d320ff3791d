#!/usr/bin/env node
/**
 * `npm run test:citus`: the `pulse` project (every end-to-end spec) against
 * the Citus coordinator named by CITUS_URL, e.g.
 *   CITUS_URL=postgres://postgres@127.0.0.1:5440/pulse_citus npm run test:citus
 * The database must exist with the citus extension and its workers registered
 * (`citus-cluster.sh up` or `db` makes one). The run's global setup migrates
 * it and then distributes its tables as `npm run citus:distribute` does; side
 * databases that suites create span the same workers (test/support/citus.ts).
 * Redis is TEST_REDIS_URL as for `npm test`. Without CITUS_URL it says so and
 * exits 0. Other arguments go to Vitest (through test/run.mjs).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const TAG = 'pulse citus tests:';
const say = (line) => process.stderr.write(`${line}\n`);
const url = process.env.CITUS_URL;

if (!url) {
  say(
    `${TAG} CITUS_URL is not set: nothing run. Point it at a Citus coordinator's database to run the e2e suite there.`,
  );
  process.exit(0);
}

/** The Citus version and the number of active workers of `url`, or a reason it cannot serve. */
async function cluster() {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT extversion FROM pg_extension WHERE extname = 'citus'`);
    if (rows.length === 0) return { problem: 'the database has no citus extension' };
    const { rows: nodes } = await client.query(
      `SELECT count(*)::int AS workers FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0 AND isactive`,
    );
    if (nodes[0].workers === 0) return { problem: 'no worker is registered (citus_add_node)' };
    return { version: rows[0].extversion, workers: nodes[0].workers };
  } catch (error) {
    return { problem: error.message || error.code };
  } finally {
    await client.end().catch(() => undefined);
  }
}

const found = await cluster();
if (found.problem) {
  say(`${TAG} ${url} cannot serve the Citus run: ${found.problem}.`);
  process.exit(1);
}
say(`${TAG} Citus ${found.version} at ${url} with ${found.workers} worker(s): running the pulse project there.`);

const run = fileURLToPath(new URL('run.mjs', import.meta.url));
const child = spawn(process.execPath, [run, '--full', '--project', 'pulse', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: url, PULSE_TEST_CITUS: '1' },
});
process.on('SIGINT', () => undefined);
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
