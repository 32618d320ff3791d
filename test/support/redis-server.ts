import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own, so the test may stop, pause and restart it. */
export class TestRedisServer {
  private process?: ChildProcess;

  private constructor(readonly port: number) {}

  /** On `port`, or on a free one. */
  static async start(port?: number): Promise<TestRedisServer> {
    const server = new TestRedisServer(port ?? (await freePort()));
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async launch(): Promise<void> {
    this.process = spawn(
      'redis-server',
      // DEBUG SLEEP lets a test make Redis slow without making it dead.
      `--port ${this.port} --bind 127.0.0.1 --save '' --appendonly no --enable-debug-command yes`
        .split(' ')
        .map((arg) => (arg === "''" ? '' : arg)),
      {
        stdio: 'ignore',
      },
    );
    const client = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => 50,
      maxRetriesPerRequest: 1,
    });
    client.on('error', () => undefined);
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await client.connect().catch(() => undefined);
        if ((await client.ping()) === 'PONG') break;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    client.disconnect();
  }

  /** Redis busy for `ms` (DEBUG SLEEP): slow, not dead; every command sent meanwhile waits. */
  async stall(ms: number): Promise<void> {
    const client = new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      await client.call('DEBUG', 'SLEEP', String(ms / 1000));
    } finally {
      client.disconnect();
    }
  }

  /** SIGSTOP: connections stay open, nothing answers, data is kept. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }
}
