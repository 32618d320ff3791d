import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './redis-server.js';

/** The committed load-balancer configuration (README "Scaling out"). */
export const DEPLOYED_CONFIG = 'deploy/nginx.conf';

/** The nginx binary: NGINX_PATH, else `nginx` on the PATH or in /usr/sbin (Debian's, outside a user's PATH). */
export function findNginx(): string | undefined {
  const candidates = process.env.NGINX_PATH
    ? [process.env.NGINX_PATH]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'].map((dir) =>
        join(dir, 'nginx'),
      );
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** `pattern` must match in `text` exactly `times` times: a change of the committed file must not silently escape the test. */
function replaceExactly(text: string, pattern: RegExp, by: string, times: number): string {
  const found = text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;
  if (found !== times)
    throw new Error(`${DEPLOYED_CONFIG}: expected ${times} line(s) matching ${pattern}, found ${found}`);
  return text.replace(new RegExp(pattern.source, 'gm'), by);
}

/**
 * deploy/nginx.conf with only the lines marked "replaced by the test"
 * changed: the upstream servers become `upstreams` (host:port), the listener
 * a loopback port, pid, logs and nginx's temp files go under `dir` (Debian's
 * build puts them under /var, which needs root). `extraHttp` is added to the
 * http block (the test's own observation headers).
 */
export function renderConfig(options: { upstreams: string[]; port: number; dir: string; extraHttp?: string }): string {
  const { upstreams, port, dir } = options;
  let text = readFileSync(DEPLOYED_CONFIG, 'utf8');
  text = replaceExactly(
    text,
    /^(\s*)server \S+; # replaced by the test$/,
    upstreams.map((u) => `$1server ${u};`).join('\n'),
    2,
  );
  text = replaceExactly(text, /^(\s*)listen \S+; # replaced by the test$/, `$1listen 127.0.0.1:${port};`, 1);
  text = replaceExactly(text, /^pid \S+; # replaced by the test$/, `pid ${join(dir, 'nginx.pid')};`, 1);
  text = replaceExactly(text, /^error_log .*# replaced by the test$/, `error_log ${join(dir, 'error.log')} warn;`, 1);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${join(dir, kind)};`)
    .join('\n');
  text = replaceExactly(
    text,
    /^(\s*)access_log .*# replaced by the test$/,
    `$1access_log ${join(dir, 'access.log')};\n${temp}\n${options.extraHttp ?? ''}`,
    1,
  );
  return text;
}

/** nginx in the foreground (`-g 'daemon off;'`) on a loopback port, in front of `upstreams`. */
export class TestNginx {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
    private readonly exited: Promise<void>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What nginx wrote to its error log so far. */
  get errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Checks the rendered file with `nginx -t` (throws with nginx's message), starts nginx and waits until it answers. */
  static async start(binary: string, upstreams: string[], extraHttp?: string): Promise<TestNginx> {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-nginx-'));
    // Workers run as `nobody` when nginx starts as root: they must reach the temp paths.
    chmodSync(dir, 0o755);
    const port = await freePort();
    const config = join(dir, 'nginx.conf');
    writeFileSync(config, renderConfig({ upstreams, port, dir, extraHttp }));
    // -e: before it reads the file, nginx would open the error log compiled in (/var/log/nginx).
    const args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', config];
    try {
      execFileSync(binary, [...args, '-t', '-q'], { stdio: 'pipe' });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr;
      throw new Error(`nginx -t refused ${config}: ${stderr ? stderr.toString() : String(error)}`);
    }
    // A process group of its own, so nothing of it outlives the test (its workers included).
    const child = spawn(binary, [...args, '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const nginx = new TestNginx(child, port, dir, exited);
    const deadline = Date.now() + 10_000;
    while (
      !(await fetch(`${nginx.url}/health`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || Date.now() > deadline) {
        process.kill(-child.pid!, 'SIGKILL');
        throw new Error(`nginx did not answer on ${port}: ${stderr}${nginx.errorLog}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return nginx;
  }

  /** SIGTERM (nginx's fast stop: open websockets are cut), the whole group killed after 3 s; removes its files. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => process.kill(-this.child.pid!, 'SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
