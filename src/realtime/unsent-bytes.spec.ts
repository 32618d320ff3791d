import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { RawSocket } from '../../test/support/raw-socket.js';
import { UnsentBytes } from './unsent-bytes.js';

/** UnsentBytes against the real engine.io, with a client that stops reading and starts again. */
describe('UnsentBytes', () => {
  const CHUNK = 'x'.repeat(100_000);
  let io: Server;
  let url: string;
  beforeAll(async () => {
    const http = createServer();
    io = new Server(http, { transports: ['websocket'] });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => io.close());

  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('never got there');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('counts what a client leaves unread, past the cap, and nothing once it has read it', async () => {
    const connected = new Promise<Socket>((resolve) => io.of('/analytics').once('connection', resolve));
    const client = await RawSocket.open(url, 'unused');
    const socket = await connected;
    let overs = 0;
    const unsent = new UnsentBytes(socket.conn, 1_000_000, () => (overs += 1));
    try {
      client.pause();
      // The kernel's buffers take the first few MB; then the rest stays in the process.
      for (let i = 0; i < 200 && unsent.bytes < 2_000_000; i++) {
        socket.emit('data', CHUNK);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(unsent.bytes).toBeGreaterThan(1_000_000);
      expect(overs).toBeGreaterThan(0);
      client.resume();
      await until(() => unsent.bytes === 0);
      // A client that reads leaves nothing behind.
      socket.emit('data', CHUNK);
      await until(() => unsent.bytes === 0);
    } finally {
      client.close();
    }
  });
});
