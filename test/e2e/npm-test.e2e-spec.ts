import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm test` and `npm run test:full` (test/run.mjs) as a newcomer runs them,
 * in a child process with nothing of this run's environment: PostgreSQL and
 * Redis at a closed port, a fresh home and data folder. The child runs the
 * unit and embedded projects only, never the pulse project this file belongs
 * to, so it cannot start itself again.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NOWHERE = {
  TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/pulse_test',
  TEST_REDIS_URL: 'redis://127.0.0.1:1/1',
};
// About 45 s on an idle 2-core machine; far longer beside the rest of the suite.
const CHILD_RUN_MS = 600_000;
// The embedded project's specs, which must have run in the child.
const EMBEDDED_SPECS = ['time-series-ground-truth', 'cache', 'tickets', 'performance-sketches'].map(
  (name) => `test/e2e/${name}.e2e-spec.ts`,
);

interface Run {
  code: number | null;
  /** stdout and stderr interleaved as a terminal shows them, without npm's own banner. */
  lines: string[];
  ms: number;
}

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { status: string }[] }[];
}

describe('npm test on a machine with nothing but Node', () => {
  let home: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'pulse-npm-test-'));
  });
  afterEach(() => {
    // The whole tree (npm, the launcher, Vitest and its workers), whatever state the test left it in.
    if (child?.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  /** `npm <args>` with a clean environment plus `env`; killed (and failed) after `timeoutMs`. */
  async function npm(args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
    const logPath = join(home, 'output.log');
    const log = openSync(logPath, 'w');
    const started = performance.now();
    child = spawn('npm', args, {
      cwd: ROOT,
      // npm's own update notice is no part of what is tested here.
      env: {
        PATH: process.env.PATH!,
        HOME: home,
        PULSE_DATA_DIR: join(home, 'data'),
        npm_config_update_notifier: 'false',
        ...env,
      },
      stdio: ['ignore', log, log],
      detached: true,
    });
    const group = -child.pid!;
    const timer = setTimeout(() => process.kill(group, 'SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
    clearTimeout(timer);
    closeSync(log);
    const ms = performance.now() - started;
    const output = readFileSync(logPath, 'utf8');
    const lines = output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('> '));
    expect(ms, `npm ${args.join(' ')} was still running after ${timeoutMs} ms:\n${output}`).toBeLessThan(timeoutMs);
    return { code, lines, ms };
  }

  const report = (): VitestReport => JSON.parse(readFileSync(join(home, 'report.json'), 'utf8')) as VitestReport;
  const reportArgs = () => ['--reporter=dot', '--reporter=json', `--outputFile=${join(home, 'report.json')}`];

  it(
    'runs the unit specs and the embedded project, says first and last what it skipped and why, and exits 0',
    async () => {
      const run = await npm(['test', '--', ...reportArgs()], NOWHERE, CHILD_RUN_MS);
      const [first, last] = [run.lines[0], run.lines.at(-1)];
      expect(run.code, run.lines.join('\n')).toBe(0);

      for (const line of [first, last]) {
        expect(line).toMatch(/^pulse tests: (running|ran) the unit and embedded projects/);
        expect(line).toContain('SKIPPED the pulse project');
        expect(line).toContain(
          'PostgreSQL at postgres://postgres@127.0.0.1:1/pulse_test is unavailable (connect ECONNREFUSED',
        );
        expect(line).toContain('Redis at redis://127.0.0.1:1/1 is unavailable (connect ECONNREFUSED');
        expect(line).toContain(
          `TEST_DATABASE_URL=${NOWHERE.TEST_DATABASE_URL} TEST_REDIS_URL=${NOWHERE.TEST_REDIS_URL} npm test`,
        );
      }
      expect(last).toContain(': passed.');

      const { numPassedTests, numFailedTests, testResults } = report();
      const files = testResults.map((result) => result.name.slice(ROOT.length));
      const embeddedTests = testResults
        .filter((result) => EMBEDDED_SPECS.some((spec) => result.name.endsWith(spec)))
        .reduce((sum, result) => sum + result.assertionResults.filter((test) => test.status === 'passed').length, 0);
      const figures = {
        passed: numPassedTests,
        files: files.length,
        embeddedTests,
        seconds: Math.round(run.ms / 100) / 10,
      };
      console.log(`npm test without services: ${JSON.stringify(figures)}`);
      mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
      writeFileSync(join(ROOT, 'test/artifacts/npm-test.json'), `${JSON.stringify(figures, null, 2)}\n`);
      expect(numFailedTests).toBe(0);
      expect(embeddedTests).toBeGreaterThan(200);
      expect(numPassedTests).toBeGreaterThan(embeddedTests);
      // Every unit spec beside the code but the ones that need services, every embedded spec, nothing else.
      expect(files.filter((file) => file.startsWith('test/')).sort()).toEqual([...EMBEDDED_SPECS].sort());
      expect(files).toContain('src/config/app-config.spec.ts');
      expect(files).not.toContain('src/redis/deadline.spec.ts');
    },
    CHILD_RUN_MS + 30_000,
  );

  it('npm run test:full refuses to skip: fails within 10 s naming both missing services, and runs nothing', async () => {
    const run = await npm(['run', 'test:full', '--', ...reportArgs()], NOWHERE, 10_000);
    const output = run.lines.join('\n');
    expect(run.code, output).not.toBe(0);
    expect(run.lines[0]).toMatch(/^pulse tests: the full run skips nothing and cannot start/);
    expect(output).toContain('PostgreSQL at postgres://postgres@127.0.0.1:1/pulse_test is unavailable');
    expect(output).toContain('Redis at redis://127.0.0.1:1/1 is unavailable');
    expect(output).not.toMatch(/RUN\s+v\d/);
  });

  it('npm run test:full names only what is missing', async () => {
    const env = { TEST_DATABASE_URL: process.env.DATABASE_URL!, TEST_REDIS_URL: NOWHERE.TEST_REDIS_URL };
    const run = await npm(['run', 'test:full'], env, 10_000);
    expect(run.code).not.toBe(0);
    expect(run.lines[0]).toContain('Redis at redis://127.0.0.1:1/1 is unavailable');
    expect(run.lines[0]).not.toContain('PostgreSQL at');
  });

  it('with both services there, runs every project and passes arguments through to Vitest', async () => {
    const env = { TEST_DATABASE_URL: process.env.DATABASE_URL!, TEST_REDIS_URL: process.env.REDIS_URL! };
    const run = await npm(['test', '--', 'src/common/time.spec.ts', ...reportArgs()], env, 120_000);
    expect(run.code, run.lines.join('\n')).toBe(0);
    expect(run.lines[0]).toBe(
      `pulse tests: PostgreSQL at ${env.TEST_DATABASE_URL} and Redis at ${env.TEST_REDIS_URL} answer: running every project (unit, pulse, cluster, embedded).`,
    );
    expect(run.lines.at(-1)).toBe('pulse tests: ran every project (unit, pulse, cluster, embedded): passed.');
    expect(report().testResults.map((result) => result.name)).toEqual([join(ROOT, 'src/common/time.spec.ts')]);
  });
});
