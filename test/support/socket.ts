import { io, type Socket } from 'socket.io-client';

/** A socket.io client on the `/analytics` namespace that records every event it receives. */
export class TestSocket {
  readonly events: { name: string; payload: any }[] = [];
  readonly socket: Socket;

  constructor(baseUrl: string, token?: string, options: { viaQuery?: boolean } = {}) {
    this.socket = io(`${baseUrl}/analytics`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...(token === undefined ? {} : options.viaQuery ? { query: { token } } : { auth: { token } }),
    });
    this.socket.onAny((name: string, payload: unknown) => this.events.push({ name, payload }));
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
