import type { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { lockFolder } from './folder-lock.js';
import type { WireServerStats } from './pglite-wire-server.js';

export interface EmbeddedPostgresOptions {
  /** Folder of the database files (e.g. `.pulse-data/pg`); created when missing, kept across runs. */
  readonly dataDir: string;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Client connections accepted at once (both pools of the app, the seeder, a psql). */
  readonly maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres`, for `pg` and TypeORM; the password is made per run. */
  readonly url: string;
  /** What the server holds for its clients now (connections, output in memory and on disk). */
  stats(): WireServerStats;
  /** Closes the connections, then PGlite (which checkpoints), then releases the folder. */
  stop(): Promise<void>;
}

/**
 * PostgreSQL 18 in WebAssembly (PGlite) on a local socket, so the normal
 * driver, TypeORM and the migrations run on it unchanged. The migrations
 * need no extension: `gen_random_uuid()` is built into PostgreSQL since 13.
 * Only one process may open the folder: PGlite has no postmaster to refuse a
 * second one, so a pid file does.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const releaseFolder = lockFolder(join(dirname(dataDir), `${basename(dataDir)}.pid`), dataDir);
  let db: PGlite | null = null;
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initializeFolder(dataDir);
    // Loaded once the folder is ours, so a folder in use is told before PGlite's modules load.
    const [pglite, wire] = await Promise.all([import('@electric-sql/pglite'), import('./pglite-wire-server.js')]);
    db = await pglite.PGlite.create({ dataDir });
    // Made per run and known only to this process (it is in the URL the app
    // is given): no other local process can read or change the data.
    const password = randomBytes(24).toString('base64url');
    const server = new wire.PgliteWireServer(db, { password, maxConnections: options.maxConnections });
    const port = await server.listen(options.port ?? 0, '127.0.0.1');
    const opened = db;
    let stopping: Promise<void> | null = null;
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      stats: () => server.stats(),
      stop: () =>
        (stopping ??= (async () => {
          try {
            await server.close();
            await opened.close();
          } finally {
            releaseFolder();
          }
        })()),
    };
  } catch (error) {
    await db?.close().catch(() => undefined);
    releaseFolder();
    throw error;
  }
}

/**
 * Runs initdb for a new folder in a short-lived process of its own. PGlite
 * runs initdb through a second PGlite instance and a snapshot of its heap,
 * and those WebAssembly heaps (about 750 MB at their peak) would otherwise
 * stay in this process's memory for as long as it runs; the folder is then
 * opened as on a restart. `--liftoff-only` keeps V8 on its baseline compiler
 * for this one-off run: about 90 MB less and 40% less CPU than optimizing
 * PostgreSQL's 9 MB of WebAssembly for a few seconds of work.
 */
async function initializeFolder(dataDir: string): Promise<void> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = 'require(process.argv[1]).PGlite.create({ dataDir: process.argv[2] }).then((db) => db.close())';
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['--liftoff-only', '-e', script, pglite, dataDir], (error, _stdout, stderr) =>
      error
        ? reject(new Error(`could not create the database in ${dataDir}: ${stderr.trim() || error.message}`))
        : resolve(),
    ),
  );
}
