import { Logger } from '@nestjs/common';
import { createServer } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { FolderInUseError } from './embedded/folder-lock.js';
import type { Embedded } from './embedded/embedded-runtime.js';

/** What stops a start for a reason its user can fix: said in one sentence, without a stack trace. */
class StartError extends Error {}

/** What runs beside the service in the same process (the demo's seeder and simulator). */
export interface Companion {
  start(app: NestFastifyApplication, config: AppConfig): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts Pulse as `npm start` and `npm run demo` run it: configuration from
 * the environment (a bad value stops the process with a message naming it),
 * in embedded mode the embedded database first, then the service, then any
 * companion. SIGTERM and SIGINT (Ctrl-C) stop everything in the reverse
 * order: the service drains (lifecycle/graceful-shutdown.ts), then the
 * embedded database closes its files, and the process exits 0.
 */
export async function run(companion?: Companion, settings?: Parameters<typeof loadConfig>[0]): Promise<void> {
  // A promise nobody handles is a bug to fix, not a reason to drop every
  // request and socket of the instance: it is logged and the process runs on.
  // An uncaught exception still ends the process (Node's default): it can
  // leave a handler half-way through with state nobody can vouch for, and a
  // restart is the safe answer to that.
  const processLogger = new Logger('Process');
  process.on('unhandledRejection', (reason) => {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    processLogger.error(`unhandled rejection: ${error.message}`, error.stack);
  });
  let config: AppConfig;
  let embedded: Embedded | undefined;
  let app: NestFastifyApplication;
  try {
    config = loadConfig(settings);
    // Before anything slow: a taken port is told at once, not after the database has started.
    await ensurePortFree(config.host, config.port);
    // The service's modules load while the embedded database starts: a taken port or data folder is
    // told before either, and a restart waits for the slower of the two, not their sum.
    const factory = import('./app.factory.js');
    factory.catch(() => undefined);
    if (config.embedded) {
      const { startEmbedded } = await import('./embedded/embedded-runtime.js');
      embedded = await startEmbedded(config);
      config = embedded.config;
    }
    const { createApp } = await factory;
    app = await createApp(config);
    await app.listen({ port: config.port, host: config.host }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE' ? portTaken(config.port) : error;
    });
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof StartError || error instanceof FolderInUseError))
      throw error;
    await embedded?.stop().catch(() => undefined);
    process.stderr.write(
      error instanceof ConfigError ? `${error.message}\n` : `Pulse cannot start: ${error.message}\n`,
    );
    process.exit(1);
  }
  await companion?.start(app, config);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await companion?.stop();
      await app.close();
      await embedded?.stop();
      process.exit(0);
    } catch (error) {
      process.stderr.write(`shutdown failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop());
}

function portTaken(port: number): StartError {
  return new StartError(
    `port ${port} is already in use (another Pulse or demo running?): stop that process, or set PORT to a free port.`,
  );
}

/** Fails with a StartError when `port` is taken on `host`; port 0 (any free port) is always free. */
function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portTaken(port) : error),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
