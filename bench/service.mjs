/** Starts the built service as its own process on a free port, as an operator would run it. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * `cpus` (e.g. '0') pins the service to those cores with taskset, so a load
 * generator pinned elsewhere does not compete with it; `nodeArgs` go to its
 * node (e.g. ['--cpu-prof']).
 */
export async function startService(env = {}, { cpus, nodeArgs = [] } = {}) {
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const node = [process.execPath, ...nodeArgs, 'dist/src/main.js'];
  const [command, args] = cpus ? ['taskset', ['-c', cpus, ...node]] : [node[0], node.slice(1)];
  const child = spawn(command, args, {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready; ) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}): ${stderr.slice(-2000)}`);
    ready = await fetch(`${url}/health`).then((r) => r.ok, () => false);
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

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
