/** Starts the built service as its own process on a free port, as an operator would run it. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * `cpus` (e.g. '0') pins the service to those cores with taskset, so a load
 * generator pinned elsewhere does not compete with it; `nodeArgs` go to its
 * node (e.g. ['--cpu-prof']); `port` is a port of the caller's choosing
 * (default: a free one); `cwd` runs the build of another checkout (its own
 * `dist/` and `node_modules/`).
 */
export async function startService(env = {}, { cpus, nodeArgs = [], port: chosenPort, cwd } = {}) {
  // A chosen port already in use would have its other server answer the health check below.
  const port = chosenPort === undefined ? await freePort() : await assertFree(chosenPort);
  const node = [process.execPath, ...nodeArgs, 'dist/src/main.js'];
  const [command, args] = cpus ? ['taskset', ['-c', cpus, ...node]] : [node[0], node.slice(1)];
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready;) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}): ${stderr.slice(-2000)}`);
    ready = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    pid: child.pid,
    /** The exit code or signal once the process has ended, or null while it runs. */
    get ended() {
      return child.exitCode ?? child.signalCode;
    },
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** `port` when nothing listens on it on loopback; throws otherwise. */
export function assertFree(port) {
  return new Promise((resolve, reject) => {
    const probe = createServer()
      .once('error', (error) => reject(new Error(`port ${port} is in use (${error.code})`)))
      .listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A process's CPU time so far (user + system, all its threads, in ms; Linux
 * counts it in ticks of 10 ms) and its process group, from /proc. Throws once
 * the process has ended.
 */
export function processCpu(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, group: Number(fields[2]) };
}

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
