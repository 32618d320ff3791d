import pg from 'pg';
import { distributeByOrganization } from '../../src/cli/citus-distribution.js';

/**
 * Whether this run is against a Citus coordinator (`npm run test:citus`,
 * test/citus.mjs): every database the tests migrate, the side databases of
 * suites that need one of their own included, then spans the same workers and
 * has its tables distributed as `npm run citus:distribute` does.
 */
export const CITUS = process.env.PULSE_TEST_CITUS === '1';

interface Node {
  readonly host: string;
  readonly port: number;
}

/** The coordinator and the workers registered in the database of `url`. */
async function topologyOf(url: string): Promise<{ coordinator: Node; workers: Node[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ host: string; port: number; coordinator: boolean }>(
      `SELECT nodename AS host, nodeport AS port, groupid = 0 AS coordinator
       FROM pg_dist_node WHERE noderole = 'primary' ORDER BY nodeid`,
    );
    const coordinator = rows.find((r) => r.coordinator) ?? {
      host: new URL(url).hostname,
      port: Number(new URL(url).port),
    };
    const workers = rows.filter((r) => !r.coordinator);
    if (workers.length === 0) throw new Error(`the Citus database at ${url} has no worker registered`);
    return { coordinator, workers };
  } finally {
    await client.end();
  }
}

async function onDatabase<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function nodeUrl(template: string, node: Node, database: string): string {
  return Object.assign(new URL(template), {
    hostname: node.host,
    port: String(node.port),
    pathname: `/${database}`,
  }).toString();
}

/**
 * Creates the database of `url` as a Citus database over the workers of the
 * database `clusterUrl` names: the database and the extension on every node
 * (a worker's leftover copy is dropped first: its shards belong to a
 * coordinator database that no longer exists), then the workers registered.
 */
export async function createCitusDatabase(url: string, clusterUrl: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const { coordinator, workers } = await topologyOf(clusterUrl);
  const quoted = pg.escapeIdentifier(name);
  for (const worker of workers) {
    await onDatabase(nodeUrl(url, worker, 'postgres'), async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${quoted}`);
    });
    await onDatabase(nodeUrl(url, worker, name), (db) => db.query('CREATE EXTENSION citus'));
  }
  await onDatabase(nodeUrl(url, coordinator, 'postgres'), (admin) => admin.query(`CREATE DATABASE ${quoted}`));
  await onDatabase(url, async (db) => {
    await db.query('CREATE EXTENSION citus');
    await db.query('SELECT citus_set_coordinator_host($1, $2)', [coordinator.host, coordinator.port]);
    for (const worker of workers) await db.query('SELECT citus_add_node($1, $2)', [worker.host, worker.port]);
  });
}

/** Distributes the migrated tables of `url` by organization (a no-op for those already distributed). */
export async function distributeTables(url: string): Promise<void> {
  await onDatabase(url, async (db) => {
    if ((await distributeByOrganization(db)) === null) {
      throw new Error(`PULSE_TEST_CITUS is set but the database at ${url} has no citus extension`);
    }
  });
}
