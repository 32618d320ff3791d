/**
 * nginx with deploy/nginx.conf in front of instances on loopback, for the
 * benches: the lines marked "replaced by the test" get the upstreams, the
 * port and temp paths, as test/support/nginx.ts does for the test.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertFree } from './service.mjs';

export function findNginx() {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin'];
  const found = (process.env.NGINX_PATH ? [process.env.NGINX_PATH] : dirs.map((d) => join(d, 'nginx'))).find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error('nginx not found (NGINX_PATH, the PATH, /usr/sbin); Debian: apt-get install nginx');
  return found;
}

function replace(text, pattern, by, times) {
  const all = new RegExp(pattern.source, 'gm');
  const found = text.match(all)?.length ?? 0;
  if (found !== times)
    throw new Error(`deploy/nginx.conf: expected ${times} line(s) matching ${pattern}, found ${found}`);
  return text.replace(all, by);
}

/** Starts nginx (pinned to `cpus` when given) on 127.0.0.1:`port` in front of `upstreams` (host:port). */
export async function startNginx({ upstreams, port, cpus }) {
  await assertFree(port);
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-nginx-'));
  chmodSync(dir, 0o755);
  let text = readFileSync('deploy/nginx.conf', 'utf8');
  text = replace(
    text,
    /^(\s*)server \S+; # replaced by the test$/,
    upstreams.map((u) => `$1server ${u};`).join('\n'),
    2,
  );
  text = replace(text, /^(\s*)listen \S+; # replaced by the test$/, `$1listen 127.0.0.1:${port};`, 1);
  text = replace(text, /^pid \S+; # replaced by the test$/, `pid ${join(dir, 'nginx.pid')};`, 1);
  text = replace(text, /^error_log .*# replaced by the test$/, `error_log ${join(dir, 'error.log')} warn;`, 1);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(dir, k)};`);
  text = replace(text, /^(\s*)access_log .*# replaced by the test$/, `$1access_log off;\n${temp.join('\n')}`, 1);
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, text);
  const binary = findNginx();
  const args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', config];
  execFileSync(binary, [...args, '-t', '-q']);
  const [command, argv] = cpus ? ['taskset', ['-c', cpus, binary, ...args]] : [binary, args];
  const child = spawn(command, [...argv, '-g', 'daemon off;'], { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    ready = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    /** The master's pid, which is also the process group of its workers. */
    pid: child.pid,
    /** nginx's master and workers: their process group. */
    stop: async () => {
      if (child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
