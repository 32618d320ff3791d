import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/app-config.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
const app = await createApp(config);
// SIGTERM (an orchestrator replacing the instance) and SIGINT (Ctrl-C) drain
// and close everything (see lifecycle/graceful-shutdown.ts), then exit 0 so
// buffered log lines are flushed.
app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
await app.listen({ port: config.port, host: config.host });
