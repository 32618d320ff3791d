import { spawn, type ChildProcess } from 'node:child_process';
import { BUILT_MAIN } from './build.js';
import { freePort } from './redis-server.js';

/** The compiled service in a process of its own, as `npm start` runs it. */
export class ServiceProcess {
  private log = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (this.log += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts `command` (default: the built service) with the test environment plus `env`, and waits for /health. */
  static async start(
    env: Record<string, string>,
    command: readonly string[] = [process.execPath, BUILT_MAIN],
    readyTimeoutMs = 20_000,
  ): Promise<ServiceProcess> {
    const port = await freePort();
    const child = spawn(command[0], command.slice(1), {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + readyTimeoutMs;
    while (
      !(await fetch(`${service.url}/health`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the service did not become healthy:\n${service.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return service;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get output(): string {
    return this.log;
  }

  /** Resolves once the output contains `text`; fails after `timeoutMs` or when the process exits first. */
  async waitFor(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.log.includes(text)) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no "${text}" in the output:\n${this.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Leaves nothing behind, whatever state the test left the process in. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
