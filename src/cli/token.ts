/**
 * Prints a development token: `npm run token -- --org 1 --role admin`.
 * Signed with the configured JWT_SECRET, so the running service accepts it.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { ROLES, type Role } from '../auth/auth.types.js';
import { signToken } from '../auth/token.service.js';

function fail(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run token -- --org <id> [--role viewer|agent|admin] [--sub <id>] [--ttl <seconds>]\n`,
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

const organizationId = Number(values.org);
if (!Number.isSafeInteger(organizationId) || organizationId <= 0) fail('--org must be a positive integer');
if (!(ROLES as readonly string[]).includes(values.role!)) fail(`--role must be one of ${ROLES.join(', ')}`);
const ttl = Number(values.ttl);
if (!Number.isSafeInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');

try {
  const { jwtSecret } = loadConfig();
  process.stdout.write(
    `${signToken({ sub: values.sub!, org_id: organizationId, role: values.role as Role }, jwtSecret, ttl)}\n`,
  );
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
