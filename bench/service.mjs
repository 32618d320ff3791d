/** Starts the built service as its own process on a free port, as an operator would run it. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * `cpus` (e.g. "0") pins the service to those cores with taskset, apart from the load generator;
 * `nodeArgs` go to its node (e.g. ["--cpu-prof"]).
 */
export async function startService(env = {}, { cpus, nodeArgs = [] } = {}) {
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const command = cpus ? ['taskset', '-c', cpus, process.execPath] : [process.execPath];
  const child = spawn(command[0], [...command.slice(1), ...nodeArgs, 'dist/src/main.js'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready; ) {
    ready = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, pid: child.pid, stop: () => child.kill('SIGTERM') };
}

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
