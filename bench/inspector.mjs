/**
 * A client of a service's V8 inspector (the service started with
 * `--inspect=127.0.0.1:<port>`): forced garbage collection, the heap and RSS
 * after it, and heap snapshots, without any such hook in the service itself.
 * `ws` is socket.io's own WebSocket library (Node 20 has no WebSocket client).
 */
import { createWriteStream } from 'node:fs';
import { WebSocket } from 'ws';

export class Inspector {
  #socket;
  #next = 1;
  #pending = new Map();
  #listeners = new Map();

  static async connect(port) {
    const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const socket = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 2 ** 30 });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new Inspector(socket);
  }

  constructor(socket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.id) {
        const { resolve, reject } = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) reject(new Error(message.error.message));
        else resolve(message.result);
      } else this.#listeners.get(message.method)?.(message.params);
    });
  }

  send(method, params = {}) {
    const id = this.#next++;
    this.#socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  /** Full collections until the heap stops shrinking (weak references and finalizers can free more on a second pass). */
  async collectGarbage() {
    let before = Infinity;
    for (let i = 0; i < 5; i++) {
      await this.send('HeapProfiler.collectGarbage');
      const { heapUsed } = await this.memoryUsage();
      if (heapUsed >= before * 0.995) return;
      before = heapUsed;
    }
  }

  /** The service's process.memoryUsage(), in bytes. */
  async memoryUsage() {
    const { result } = await this.send('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    return JSON.parse(result.value);
  }

  /** Writes a heap snapshot (after a collection) to `path`, loadable in Chrome's DevTools and by heap-summary.mjs. */
  async heapSnapshot(path) {
    const file = createWriteStream(path);
    this.#listeners.set('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => file.write(chunk));
    await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    this.#listeners.delete('HeapProfiler.addHeapSnapshotChunk');
    await new Promise((resolve) => file.end(resolve));
  }

  close() {
    this.#socket.close();
  }
}
