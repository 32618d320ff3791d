import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PgliteWireServer, type WireServerStats } from './pglite-wire-server.js';

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
    db = await PGlite.create({ dataDir });
    // Made per run and known only to this process (it is in the URL the app
    // is given): no other local process can read or change the data.
    const password = randomBytes(24).toString('base64url');
    const server = new PgliteWireServer(db, { password, maxConnections: options.maxConnections });
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
 * Claims the data folder for this process with a pid file beside it (not in
 * it: the folder belongs to PostgreSQL). A file left by a process that no
 * longer runs is taken over.
 */
function lockFolder(lockPath: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockPath, 'utf8'));
      if (isRunning(owner)) {
        throw new Error(`${dataDir} is in use by process ${owner}; stop it first`);
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not claim ${dataDir}`);
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
