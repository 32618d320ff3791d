import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres.js';
import { migratedDatabase } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedDatabaseUrl: string;
  }
}

/**
 * The embedded project's database: one PGlite for the run, in a fresh
 * folder, migrated as the service migrates at boot; its URL is handed to the
 * test files (test/support/app.ts), whose apps run in embedded mode.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pulse-embedded-test-'));
  const database = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg') });
  // Not into process.env: the other project's workers inherit it.
  await migratedDatabase(database.url, { ...project.config.env, PULSE_EMBEDDED: 'true' });
  project.provide('embeddedDatabaseUrl', database.url);
  return async () => {
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
