import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './redis-server.js';

/**
 * A TCP relay in front of a real server, so a test can cut a dependency off
 * (refusing new connections and dropping open ones) and bring it back on the
 * same port, while the server behind it keeps running for the other tests.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Map<Socket, Socket>();
  private held = false;
  private stalled = false;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    await proxy.open();
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    return Object.assign(new URL(url), { hostname: '127.0.0.1', port: String(this.port) }).toString();
  }

  async open(): Promise<void> {
    this.stalled = false;
    const server = createServer((client) => {
      if (this.stalled) {
        // Accepted, never answered: what a client sees across a network partition.
        this.sockets.add(client);
        client.on('close', () => this.sockets.delete(client));
        client.on('error', () => undefined);
        return;
      }
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      upstream.pipe(client);
      this.clients.set(client, upstream);
      if (!this.held) client.pipe(upstream);
      client.on('close', () => {
        this.clients.delete(client);
        upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /**
   * Holds what clients send (new connections included) until `release()`:
   * the server behind looks stalled while every connection stays open.
   */
  hold(): void {
    this.held = true;
    for (const [client, upstream] of this.clients) {
      client.unpipe(upstream);
      client.pause();
    }
  }

  release(): void {
    this.held = false;
    for (const [client, upstream] of this.clients) client.pipe(upstream);
  }

  /**
   * Stops passing bytes either way on every open connection, and accepts new
   * ones without answering, until `cut()`: the server is unreachable, but
   * nothing tells the clients so.
   */
  stall(): void {
    this.stalled = true;
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  /** Drops every open connection and refuses new ones until `open()`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
