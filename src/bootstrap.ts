import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { startEmbedded, type Embedded } from './embedded/embedded-runtime.js';

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
  try {
    config = loadConfig(settings);
    if (config.embedded) {
      embedded = await startEmbedded(config);
      config = embedded.config;
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
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
