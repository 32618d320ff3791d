import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A socket.io client on `/analytics` spoken by hand over a plain TCP socket
 * (WebSocket framing, engine.io and socket.io packets), so a test can do what
 * a browser tab in the background or a hostile client does: stop reading
 * (`pause()`) while it keeps sending.
 */
export class RawSocket {
  /** The engine.io packets received, as text (`42/analytics,["event",…]`), after the HTTP head. */
  readonly packets: string[] = [];
  /** The namespace socket's id, as the server knows it. */
  id = '';
  private pending = Buffer.alloc(0);
  private upgraded = false;
  private waiters: (() => void)[] = [];

  /** Settles when the TCP connection has closed (a client that does not read learns it from a failed write). */
  readonly closed: Promise<void>;

  private constructor(private readonly tcp: Socket) {
    tcp.on('data', (chunk: Buffer) => this.receive(chunk));
    tcp.on('error', () => undefined);
    this.closed = new Promise((resolve) => tcp.once('close', () => resolve()));
  }

  static async open(baseUrl: string, token: string): Promise<RawSocket> {
    const { hostname, port } = new URL(baseUrl);
    const tcp = connect(Number(port), hostname);
    const socket = new RawSocket(tcp);
    await new Promise<void>((resolve, reject) => tcp.once('connect', resolve).once('error', reject));
    tcp.write(
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
    const head = await socket.until((p) => p.startsWith('HTTP/'));
    if (!head.startsWith('HTTP/1.1 101')) throw new Error(`no WebSocket: ${head.split('\r\n')[0]}`);
    await socket.until((p) => p.startsWith('0'));
    socket.send(`40/analytics,${JSON.stringify({ token })}`);
    const connected = await socket.until((p) => p.startsWith('40/analytics,') || p.startsWith('44/analytics,'));
    if (connected.startsWith('44')) throw new Error(`refused: ${connected}`);
    socket.id = JSON.parse(connected.slice('40/analytics,'.length)).sid;
    return socket;
  }

  /** Sends a socket.io event on the namespace (no ack asked). */
  emit(event: string, payload: unknown): void {
    this.send(`42/analytics,${JSON.stringify([event, payload])}`);
  }

  /** Stops reading: what the server sends piles up in the kernel's buffers, then in the server. */
  pause(): void {
    this.tcp.pause();
  }

  resume(): void {
    this.tcp.resume();
  }

  close(): void {
    this.tcp.destroy();
  }

  /** The first packet received (before or after now) that matches. */
  async until(match: (packet: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.packets.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no matching packet within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, deadline - Date.now()).unref();
      });
    }
  }

  private send(text: string): void {
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    const length = payload.length;
    const head =
      length < 126
        ? Buffer.from([0x81, 0x80 | length])
        : length < 65_536
          ? Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff])
          : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), bigEndian64(length)]);
    for (let i = 0; i < length; i++) payload[i] ^= mask[i % 4];
    this.tcp.write(Buffer.concat([head, mask, payload]));
  }

  private receive(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (!this.upgraded) {
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.packets.push(this.pending.subarray(0, end).toString('latin1'));
      this.pending = this.pending.subarray(end + 4);
      this.upgraded = true;
    }
    for (;;) {
      if (this.pending.length < 2) break;
      let length = this.pending[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.pending.length < 4) break;
        length = this.pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.pending.length < 10) break;
        length = Number(this.pending.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.pending.length < offset + length) break;
      const opcode = this.pending[0] & 0x0f;
      const text = this.pending.subarray(offset, offset + length).toString();
      this.pending = this.pending.subarray(offset + length);
      if (opcode !== 1) continue;
      // engine.io: 2 is the server's ping (answered, as a live client does); 0 opens; 4 carries a socket.io packet.
      if (text === '2') this.send('3');
      else this.packets.push(text);
    }
    this.waiters.splice(0).forEach((wake) => wake());
  }
}

function bigEndian64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
}
