/**
 * Prints a development token: `npm run token -- --org 1 --role admin`.
 * Signed with the configured JWT_SECRET, so the running service accepts it;
 * without one (`npm run demo`), with the secret embedded mode keeps in its
 * data folder, and for the demo's organization unless `--org` says otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { ROLES, type Role } from '../auth/auth.types.js';
import { signToken } from '../auth/token.service.js';

function fail(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run token -- [--org <id>] [--role viewer|agent|admin] [--sub <id>] [--ttl <seconds>]\n`,
  );
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    org: { type: 'string' },
    role: { type: 'string', default: 'admin' },
    sub: { type: 'string', default: 'dev-user' },
    ttl: { type: 'string', default: String(24 * 3600) },
  },
});

const DEMO_ORGANIZATION_ID = 1;

/** The secret to sign with, and the organization when none is given: the configured one, else the demo folder's. */
function signing(): { secret: string; organization?: number } {
  // PULSE_EMBEDDED by default: without DATABASE_URL and JWT_SECRET the configuration is still valid, and names the folder.
  const config = loadConfig({ defaults: { PULSE_EMBEDDED: 'true' } });
  if (config.jwtSecret) return { secret: config.jwtSecret };
  const file = join(config.dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    fail(`no JWT_SECRET is set and ${file} does not exist: set JWT_SECRET, or start \`npm run demo\` once first`);
  }
  return { secret: readFileSync(file, 'utf8').trim(), organization: DEMO_ORGANIZATION_ID };
}

try {
  const { secret, organization } = signing();
  const organizationId = values.org === undefined ? organization : Number(values.org);
  if (organizationId === undefined) fail('--org is required (the organization of the token)');
  if (!Number.isSafeInteger(organizationId) || organizationId <= 0) fail('--org must be a positive integer');
  if (!(ROLES as readonly string[]).includes(values.role!)) fail(`--role must be one of ${ROLES.join(', ')}`);
  const ttl = Number(values.ttl);
  if (!Number.isSafeInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');
  process.stdout.write(
    `${signToken({ sub: values.sub!, org_id: organizationId, role: values.role as Role }, secret, ttl)}\n`,
  );
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
