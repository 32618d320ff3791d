import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The compiled entry point that child-process tests run, as `npm start` does. */
export const BUILT_MAIN = 'dist/src/main.js';

const SOURCES = ['src', 'migrations', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/**
 * Builds the service when dist/ is missing or older than a source, so tests
 * that start the compiled service (as a user or an orchestrator would) never
 * run yesterday's code. CI has built already and pays nothing here.
 */
export function ensureBuilt(): void {
  const built = existsSync(BUILT_MAIN) ? statSync(BUILT_MAIN).mtimeMs : 0;
  if (built >= Math.max(...SOURCES.map(newest))) return;
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
