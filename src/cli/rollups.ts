/**
 * `npm run rollups:verify -- [--org <id>]` compares the rollups and the
 * sketches with the raw tickets and exits 1 naming the first bucket that
 * differs; `npm run rollups:rebuild -- [--org <id>]` recomputes both from the
 * tickets (the within-target counts with SLA_FIRST_RESPONSE_HOURS).
 * Without --org, every organization. Reads DATABASE_URL through config/.
 */
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { buildDataSourceOptions } from '../database/database-options.js';
import { RollupsRepository } from '../rollups/rollups.repository.js';
import { SketchesRepository } from '../rollups/sketches.repository.js';

function fail(message: string): never {
  process.stderr.write(`${message}\nusage: rollups.ts verify|rebuild [--org <id>]\n`);
  process.exit(2);
}

const { values, positionals } = parseArgs({ options: { org: { type: 'string' } }, allowPositionals: true });
const command = positionals[0];
if (command !== 'verify' && command !== 'rebuild') fail('the command must be verify or rebuild');
const organizationId = values.org === undefined ? null : Number(values.org);
if (organizationId !== null && (!Number.isSafeInteger(organizationId) || organizationId <= 0)) {
  fail('--org must be a positive integer');
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const db = new DataSource(buildDataSourceOptions(config));
await db.initialize();
const scope = organizationId === null ? 'every organization' : `organization ${organizationId}`;
try {
  const rollups = new RollupsRepository(db);
  const sketches = new SketchesRepository(db, config.slaFirstResponseHours);
  if (command === 'rebuild') {
    await rollups.rebuild(organizationId);
    await sketches.rebuild(organizationId);
    process.stdout.write(`rebuilt the rollups and sketches of ${scope}\n`);
  } else {
    const differences = [
      { table: 'rollup', mismatch: await rollups.verify(organizationId) },
      { table: 'sketch', mismatch: await sketches.verify(organizationId) },
    ];
    for (const { table, mismatch } of differences) {
      if (mismatch === null) continue;
      const bucket = mismatch.key.bucket instanceof Date ? mismatch.key.bucket.toISOString() : mismatch.key.bucket;
      process.stderr.write(
        `${mismatch.mismatches} ${table} row(s) differ from the tickets; first: ${JSON.stringify({ ...mismatch.key, bucket })} ` +
          `stored ${JSON.stringify(mismatch.stored)}, expected ${JSON.stringify(mismatch.expected)}\n`,
      );
      process.exitCode = 1;
    }
    if (process.exitCode !== 1) process.stdout.write(`rollups and sketches of ${scope} match the tickets\n`);
  }
} finally {
  await db.destroy();
}
