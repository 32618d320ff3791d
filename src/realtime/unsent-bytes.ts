import type { Socket } from 'socket.io';

type Connection = Socket['conn'];
interface EnginePacket {
  readonly data?: unknown;
}

/**
 * How many bytes one engine.io connection holds for its peer that the peer
 * has not taken yet, from engine.io's public surface only:
 * - `packetCreate` (a packet enters the connection's write buffer),
 * - `flush` (the whole write buffer is handed to the transport),
 * - `transport.writable` (false until the transport has written what it was
 *   handed: over WebSocket until the kernel has taken the last frame, over
 *   polling until the client polls again). A flush only happens while the
 *   transport is writable, so the batch of the previous flush is then gone.
 *
 * Unsent = what is still in the write buffer + the last flushed batch while
 * the transport has not finished writing it. What the kernel's socket buffer
 * holds is not counted: it is not the process's memory. Text is counted in
 * UTF-16 units (a constant-time read; the same as bytes for the ASCII JSON
 * that most packets are).
 * `unsent-bytes.spec.ts` checks these semantics against the real library.
 */
export class UnsentBytes {
  private buffered = 0;
  private inFlight = 0;

  constructor(
    private readonly connection: Connection,
    /** Called (once per packet) after a packet takes the total past `cap`. */
    cap: number,
    onOver: () => void,
  ) {
    connection.on('packetCreate', (packet: EnginePacket) => {
      this.buffered += sizeOf(packet.data);
      if (this.bytes > cap) onOver();
    });
    connection.on('flush', (buffer: EnginePacket[]) => {
      const size = buffer.reduce((sum, packet) => sum + sizeOf(packet.data), 0);
      this.buffered -= size;
      this.inFlight = size;
    });
  }

  get bytes(): number {
    return this.buffered + (this.connection.transport.writable ? 0 : this.inFlight);
  }
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
