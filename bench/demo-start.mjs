#!/usr/bin/env node
/**
 * `npm run demo` as a user meets it: the command (given as arguments, default
 * `npm run demo`) started on a fresh data folder, then again on the same
 * folder. For each start: milliseconds until `GET /wallboard` answers 200,
 * the process's peak RSS (VmHWM of the Node process that serves, read
 * once the banner is printed, so it covers seeding), and the peak of the RSS
 * summed over the whole process tree, sampled every 50 ms (it covers the
 * short-lived initdb process of a fresh folder). Prints JSON.
 *
 *   node bench/demo-start.mjs                  # npm run demo, twice
 *   node bench/demo-start.mjs node dist/src/demo/main.js
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const command = process.argv.length > 2 ? process.argv.slice(2) : ['npm', 'run', 'demo'];
const dataDir = mkdtempSync(join(tmpdir(), 'pulse-demo-bench-'));
const port = 20_000 + Math.floor(Math.random() * 20_000);
const READY = 'Pulse demo is running';

const processes = () =>
  execFileSync('ps', ['-o', 'pid=,ppid=,rss=,comm=', '-e'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));

/** MB of RSS of `root` and every process below it. */
function treeRssMb(root) {
  const tree = processes();
  let pids = [String(root)];
  let kb = 0;
  while (pids.length > 0) {
    kb += tree.filter(([pid]) => pids.includes(pid)).reduce((sum, [, , rss]) => sum + Number(rss), 0);
    pids = tree.filter(([, ppid]) => pids.includes(ppid)).map(([pid]) => pid);
  }
  return Math.round(kb / 1024);
}

/** The pid of the node process in `root`'s tree that listens (npm runs it as a grandchild). */
function servingPid(root) {
  const tree = processes();
  let pids = [String(root)];
  let found = String(root);
  for (let depth = 0; depth < 5; depth++) {
    pids = tree.filter(([, ppid]) => pids.includes(ppid)).map(([pid]) => pid);
    const node = tree.find(([pid, , , comm]) => pids.includes(pid) && comm === 'node');
    if (node) found = node[0];
  }
  return Number(found);
}

const peakRssMb = (pid) => {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return hwm ? Math.round(Number(hwm[1]) / 1024) : null;
};

async function start(label) {
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, PULSE_DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: '', REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let wallboardMs = null;
  let treePeakMb = 0;
  while (performance.now() - started < 300_000) {
    treePeakMb = Math.max(treePeakMb, treeRssMb(child.pid));
    if (wallboardMs === null) {
      const ok = await fetch(`http://127.0.0.1:${port}/wallboard`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) wallboardMs = Math.round(performance.now() - started);
    }
    if (wallboardMs !== null && output.includes(READY)) break;
    if (child.exitCode !== null) throw new Error(`${label}: exited\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const readyMs = Math.round(performance.now() - started);
  const rss = peakRssMb(servingPid(child.pid));
  process.kill(-child.pid, 'SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
  return {
    label,
    wallboard_ms: wallboardMs,
    banner_ms: readyMs,
    peak_rss_mb: rss,
    peak_tree_rss_mb: treePeakMb,
    seeded: /seeded organization 1 with (\d+)/.exec(output)?.[1] ?? null,
  };
}

try {
  const runs = [await start('fresh data folder'), await start('restart')];
  console.log(
    JSON.stringify({ command: command.join(' '), load_average: loadavg().map((l) => l.toFixed(1)), runs }, null, 2),
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
