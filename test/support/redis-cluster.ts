import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** The first port of the cluster the `cluster` project shares, and of the one the failover test kills a master of. */
export const SHARED_CLUSTER_PORT = Number(process.env.TEST_REDIS_CLUSTER_PORT ?? 7101);
export const FAILOVER_CLUSTER_PORT = Number(process.env.TEST_REDIS_FAILOVER_CLUSTER_PORT ?? 7111);
const NODES = 6;

/** REDIS_URL of a cluster whose nodes listen on `base`…`base + 5`: every node a seed. */
export function clusterSeedUrl(base: number): string {
  return Array.from({ length: NODES }, (_, i) => `redis://127.0.0.1:${base + i}`).join(',');
}

/** Why this machine cannot start a Redis Cluster (redis-server or redis-cli missing), or undefined when it can. */
export function clusterToolsMissing(): string | undefined {
  for (const tool of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly master: boolean;
  /** A replica's master. */
  readonly masterId: string | null;
  readonly failed: boolean;
}

/**
 * A Redis Cluster of three masters and three replicas on loopback, made of
 * the machine's redis-server (`cluster-enabled yes`, nothing persisted) and
 * joined by `redis-cli --cluster create … --cluster-replicas 1`. A node is
 * declared failed after one second without an answer, so a replica takes
 * over within about two.
 */
export class TestRedisCluster {
  private readonly processes = new Map<number, ChildProcess>();

  private constructor(
    readonly base: number,
    private readonly dir: string,
  ) {}

  get ports(): number[] {
    return Array.from({ length: NODES }, (_, i) => this.base + i);
  }

  get url(): string {
    return clusterSeedUrl(this.base);
  }

  static async start(base: number): Promise<TestRedisCluster> {
    const cluster = new TestRedisCluster(base, mkdtempSync(join(tmpdir(), `pulse-cluster-${base}-`)));
    try {
      for (const port of cluster.ports) cluster.launch(port);
      await Promise.all(cluster.ports.map((port) => cluster.waitForPing(port)));
      const create = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...cluster.ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private launch(port: number): void {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(this.dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      '1000',
      // A replica may always take over, however long it was cut off, and the
      // slots of the other masters stay served while one is failing over.
      '--cluster-replica-validity-factor',
      '0',
      '--cluster-require-full-coverage',
      'no',
      // A replica's first copy of its master at once, not after the default five seconds.
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    this.processes.set(port, spawn('redis-server', args, { stdio: 'ignore' }));
  }

  private async waitForPing(port: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await this.ask(port, (c) => c.ping()).catch(() => null)) return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await sleep(50);
    }
  }

  /** Runs `command` on the node at `port` with a connection of its own. */
  async ask<T>(port: number, command: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await command(client);
    } finally {
      client.disconnect();
    }
  }

  /** Until every running node says `cluster_state:ok` and knows three masters that cover every slot. */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.runningPorts().map((port) => this.ask(port, (c) => c.cluster('INFO') as Promise<string>).catch(() => '')),
      );
      if (states.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info))) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster on ${this.base}… is not ok:\n${states.join('\n')}`);
      await sleep(100);
    }
  }

  /** The nodes as a running node sees them. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    return this.nodesSeenBy(this.runningPorts()[0]!);
  }

  /** The port of the master that owns `key`'s slot now, as the node at `askPort` (any running one) sees it. */
  async masterOf(key: string, askPort = this.runningPorts()[0]!): Promise<number> {
    return this.ask(askPort, async (c) => {
      const slot = (await c.cluster('KEYSLOT', key)) as number;
      const slots = (await c.cluster('SLOTS')) as unknown as [number, number, [string, number, string]][];
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no node owns slot ${slot}`);
      return range[2][1];
    });
  }

  /** The run id of the node at `port`. */
  async runId(port: number): Promise<string> {
    const info = await this.ask(port, (c) => c.info('server'));
    return /run_id:([0-9a-f]+)/.exec(info)![1]!;
  }

  /** The nodes as the running node at `port` sees them (each node's view changes on its own during a failover). */
  async nodesSeenBy(port: number): Promise<ClusterNodeInfo[]> {
    const text = (await this.ask(port, (c) => c.cluster('NODES'))) as string;
    return parseNodes(text);
  }

  /**
   * The replica at `port` stops copying its master from now on, while the
   * cluster still counts it as a replica that may take over: its link is
   * cut, and it cannot log in again (a wrong `masterauth`). It holds what the
   * master had at this moment, as a replica whose link was down would.
   */
  async cutReplica(port: number): Promise<void> {
    await this.ask(port, async (c) => {
      await c.config('SET', 'masterauth', 'not-the-master-password');
      await c.call('CLIENT', 'KILL', 'TYPE', 'master');
    });
  }

  /** kill -9 of the node at `port`. */
  kill(port: number): void {
    this.processes.get(port)?.kill('SIGKILL');
    this.processes.delete(port);
  }

  private runningPorts(): number[] {
    return this.ports.filter((port) => this.processes.has(port));
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.processes.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    this.processes.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** CLUSTER NODES, one node a line: `<id> <ip:port@bus> <flags> <master id or -> …`. */
function parseNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId] = line.split(' ');
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)![1]),
        master: flags!.split(',').includes('master'),
        masterId: masterId === '-' ? null : masterId!,
        failed: /fail/.test(flags!),
      };
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
