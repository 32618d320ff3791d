#!/usr/bin/env node
/**
 * `npm test`: asks PostgreSQL and Redis first, then runs Vitest.
 * - Both answer: every project (unit, pulse, cluster, embedded), as CI runs it.
 * - Either is missing: the `unit` and `embedded` projects, which need
 *   neither, and says so in its first and last lines.
 * - `--full` (`npm run test:full`) or PULSE_TEST_FULL=1: never skips; fails
 *   within seconds, naming what is missing.
 * Other arguments go to `vitest run` unchanged. Exits with Vitest's code.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = 'test/vitest.config.ts';
// The same defaults as the `pulse` project in test/vitest.config.ts.
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1';
const PROBE_TIMEOUT_MS = 3000;
const TAG = 'pulse tests:';

const args = process.argv.slice(2);
const full = args.includes('--full') || ['1', 'true'].includes(process.env.PULSE_TEST_FULL ?? '');
const vitestArgs = args.filter((arg) => arg !== '--full');

const reason = (error) => error?.message || error?.code || String(error);

/** Why PostgreSQL at `url` cannot serve the tests, or undefined when it can. */
async function postgresProblem(url) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    // The server answered; the pulse project's global setup creates the database.
    return error?.code === '3D000' ? undefined : reason(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why Redis at `url` cannot serve the tests, or undefined when it can. */
async function redisProblem(url) {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    commandTimeout: PROBE_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket's error says more than the "Connection is closed." that connect() rejects with.
  let socketError;
  redis.on('error', (error) => (socketError ??= error));
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return reason(socketError ?? error);
  } finally {
    redis.disconnect();
  }
}

/** A probe that never outlives its timeout, whatever the driver does. */
function bounded(probe) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS + 500);
  });
  return Promise.race([probe.catch(reason), late]).finally(() => clearTimeout(timer));
}

const [pgProblem, redisFault] = await Promise.all([
  bounded(postgresProblem(DATABASE_URL)),
  bounded(redisProblem(REDIS_URL)),
]);
const missing = [
  pgProblem && `PostgreSQL at ${DATABASE_URL} is unavailable (${pgProblem})`,
  redisFault && `Redis at ${REDIS_URL} is unavailable (${redisFault})`,
].filter(Boolean);
const say = (line) => process.stderr.write(`${line}\n`);

if (missing.length > 0 && full) {
  say(
    `${TAG} the full run skips nothing and cannot start: ${missing.join('; ')}. Start what is missing, or point ` +
      `TEST_DATABASE_URL and TEST_REDIS_URL at a running PostgreSQL and Redis (npm test runs what needs neither).`,
  );
  process.exit(1);
}

const everything = missing.length === 0;
// A --project of the caller's own choosing wins over the choice made here.
const ownProjects = vitestArgs.some((arg) => arg.startsWith('--project'));
const ran = ownProjects
  ? 'the projects named by --project'
  : everything
    ? 'every project (unit, pulse, cluster, embedded)'
    : 'the unit and embedded projects (unit specs; core specs on PGlite with the in-process cache)';
const skipped = everything
  ? ''
  : ` ${ownProjects ? 'The pulse project cannot run' : 'SKIPPED the pulse project'} (end-to-end specs and unit ` +
    `specs that need PostgreSQL and Redis): ${missing.join('; ')}. To run everything: ` +
    `TEST_DATABASE_URL=${DATABASE_URL} TEST_REDIS_URL=${REDIS_URL} npm test (with both running there)`;
say(
  everything
    ? `${TAG} PostgreSQL at ${DATABASE_URL} and Redis at ${REDIS_URL} answer: running ${ran}.`
    : `${TAG} running ${ran}.${skipped}`,
);

const projects = everything || ownProjects ? [] : ['--project', 'unit', '--project', 'embedded'];
const vitestPackage = createRequire(import.meta.url).resolve('vitest/package.json');
const vitestBin = join(dirname(vitestPackage), 'vitest.mjs');
const vitest = spawn(process.execPath, [vitestBin, 'run', '--config', CONFIG, ...projects, ...vitestArgs], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: DATABASE_URL, TEST_REDIS_URL: REDIS_URL },
});
// Ctrl-C reaches Vitest from the terminal itself; a signal sent to this process alone is passed on.
process.on('SIGINT', () => undefined);
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => vitest.kill(signal));

vitest.on('exit', (code, signal) => {
  const exitCode = code ?? 1;
  const outcome = exitCode === 0 ? 'passed' : `FAILED (exit ${code ?? signal})`;
  say(`${TAG} ran ${ran}: ${outcome}.${skipped}`);
  process.exit(exitCode);
});
