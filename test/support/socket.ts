import { io, type Socket } from 'socket.io-client';

/** A socket.io client on the `/analytics` namespace that records every event it receives. */
export class TestSocket {
  readonly events: { name: string; payload: any }[] = [];
  readonly socket: Socket;
  private reason?: string;

  /**
   * `transports` defaults to the websocket alone; `query` is sent on every
   * request of the connection (each poll, the upgrade); `extraHeaders` on
   * the handshake (Node only: browsers do not let a page set them).
   */
  constructor(
    baseUrl: string,
    token?: string,
    options: {
      viaQuery?: boolean;
      transports?: ('polling' | 'websocket')[];
      query?: Record<string, string>;
      extraHeaders?: Record<string, string>;
    } = {},
  ) {
    const query = { ...options.query, ...(token !== undefined && options.viaQuery ? { token } : {}) };
    this.socket = io(`${baseUrl}/analytics`, {
      transports: options.transports ?? ['websocket'],
      reconnection: false,
      forceNew: true,
      query,
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
      ...(token === undefined || options.viaQuery ? {} : { auth: { token } }),
    });
    this.socket.onAny((name: string, payload: unknown) => this.events.push({ name, payload }));
    this.socket.on('disconnect', (reason) => (this.reason = reason));
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
    });
  }

  /** The first `name` event (already received or still to come) matching `where`. */
  next<T = any>(name: string, where: (payload: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
    const seen = this.events.find((e) => e.name === name && where(e.payload));
    if (seen) return Promise.resolve(seen.payload);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off(name, listener);
        reject(new Error(`no ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (payload: T) => {
        if (!where(payload)) return;
        clearTimeout(timer);
        this.socket.off(name, listener);
        resolve(payload);
      };
      this.socket.on(name, listener);
    });
  }

  /** Resolves once `n` `name` events have been received in all (counting those already received). */
  nth(name: string, n: number, timeoutMs = 5000): Promise<void> {
    if (this.count(name) >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off(name, listener);
        reject(new Error(`${this.count(name)} of ${n} ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = () => {
        if (this.count(name) < n) return;
        clearTimeout(timer);
        this.socket.off(name, listener);
        resolve();
      };
      // onAny (which records) runs before these listeners, so the count already includes this event.
      this.socket.on(name, listener);
    });
  }

  /** The reason of the disconnect, when it comes. */
  disconnected(timeoutMs = 5000): Promise<string> {
    if (this.socket.disconnected && this.reason) return Promise.resolve(this.reason);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no disconnect within ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('disconnect', (reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });
  }

  emit<T = any>(name: string, payload?: unknown): Promise<T> {
    return this.socket.timeout(5000).emitWithAck(name, payload);
  }

  count(name: string): number {
    return this.events.filter((e) => e.name === name).length;
  }

  close(): void {
    this.socket.disconnect();
  }
}
