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
await app.listen({ port: config.port, host: config.host });
