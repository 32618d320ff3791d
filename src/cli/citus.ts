/**
 * `npm run citus:distribute`: on a Citus coordinator, distributes every table
 * of the public schema that has an organization_id column by it, co-located
 * with the tickets (see citus-distribution.ts and the README's "Scaling
 * out"). On a database without the citus extension it changes nothing and
 * says so. Run it after the migrations; it is idempotent. Reads DATABASE_URL
 * through config/.
 */
import pg from 'pg';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { DistributionError, distributeByOrganization } from './citus-distribution.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
const client = new pg.Client({ connectionString: config.databaseUrl });
await client.connect();
try {
  const report = await distributeByOrganization(client, say);
  if (report === null) {
    say('the database has no citus extension (plain PostgreSQL): nothing to distribute, nothing changed');
  } else {
    say(`Citus ${report.citusVersion}, ${report.workers} worker(s)`);
    if (report.distributed.length > 0) say(`distributed by organization_id: ${report.distributed.join(', ')}`);
    if (report.alreadyDistributed.length > 0) {
      say(`already distributed by organization_id: ${report.alreadyDistributed.join(', ')}`);
    }
    if (report.leftLocal.length > 0) say(`left on the coordinator: ${report.leftLocal.join(', ')}`);
  }
} catch (error) {
  if (!(error instanceof DistributionError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
} finally {
  await client.end();
}
