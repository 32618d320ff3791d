#!/usr/bin/env node
/**
 * `npm run demo`: builds Pulse only when the build is missing or older than a
 * source (a full `nest build` takes seconds to tens of seconds; a restart
 * with nothing changed should not pay it), then runs the demo in this process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = join(ROOT, 'dist/src/demo/main.js');
const SOURCES = ['src', 'migrations', 'nest-cli.json', 'tsconfig.json', 'package.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = existsSync(ENTRY) ? statSync(ENTRY).mtimeMs : 0;
if (built < Math.max(...SOURCES.map((source) => newest(join(ROOT, source))))) {
  process.stdout.write(built ? 'Sources changed: building Pulse…\n' : 'Building Pulse (first run)…\n');
  execFileSync(join(ROOT, 'node_modules/.bin/nest'), ['build'], { cwd: ROOT, stdio: 'inherit' });
}
await import(pathToFileURL(ENTRY).href);
