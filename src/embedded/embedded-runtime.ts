import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { withEmbeddedDatabase, type AppConfig } from '../config/app-config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export interface Embedded {
  /** The configuration with the embedded database's URL and the folder's secret filled in. */
  readonly config: AppConfig;
  stop(): Promise<void>;
}

/**
 * Embedded mode's own start: says so first and loudly, then starts PGlite in
 * `<PULSE_DATA_DIR>/pg` (kept across runs) and points the service at it
 * (migrations apply at boot in this mode), with a JWT secret kept in the
 * folder when none is configured, so tokens stay valid across restarts.
 */
export async function startEmbedded(base: AppConfig): Promise<Embedded> {
  const dataDir = resolve(base.dataDir);
  pino({ level: base.logLevel, base: { pid: process.pid } }).warn(
    `EMBEDDED MODE: PostgreSQL is PGlite in ${join(dataDir, 'pg')}; cache, rate limits and socket fan-out ` +
      'live in this process. One process only, not for production (set DATABASE_URL and REDIS_URL for that).',
  );
  mkdirSync(dataDir, { recursive: true });
  const database = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg') });
  try {
    const secret = base.jwtSecret || folderSecret(join(dataDir, 'jwt-secret'));
    return { config: withEmbeddedDatabase(base, database.url, secret), stop: () => database.stop() };
  } catch (error) {
    await database.stop();
    throw error;
  }
}

function folderSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
