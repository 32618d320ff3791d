import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';

/** Bytes held in memory for one client before the rest waits on disk. */
export const OUTPUT_HIGH_WATER_MARK = 1024 * 1024;
const FILE_BLOCK = 256 * 1024;
/** A client that leaves this much unread is dropped rather than filling the disk. */
const MAX_SPILL_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * What the server sends to one client, at the pace the client reads it.
 *
 * PGlite runs a statement to its end in one synchronous call and hands over
 * every byte of its result on the way: a `COPY … TO STDOUT` of a raw export
 * cannot be paused halfway. Whatever the socket does not take below the high
 * water mark goes to a file of this connection's own (unlinked at once, so
 * nothing is left behind) and is sent from there as the socket drains. The
 * memory a slow reader costs is the mark plus one block, whatever it asked
 * for; the server does not run the client's next message until its output
 * is below the mark (`ready`).
 */
export class ClientOutput {
  private file: { fd: number; written: number; read: number } | null = null;
  private staged: Buffer[] = [];
  private stagedBytes = 0;
  private waiters: (() => void)[] = [];
  private pumping = false;

  constructor(
    private readonly socket: Socket,
    private readonly highWaterMark = OUTPUT_HIGH_WATER_MARK,
  ) {
    socket.on('drain', () => this.pump());
    socket.once('close', () => this.dispose());
  }

  /** Bytes this client's output holds in memory now (the socket's buffer included). */
  get bufferedBytes(): number {
    return this.socket.writableLength + this.stagedBytes;
  }

  /** Bytes waiting on disk. */
  get spilledBytes(): number {
    return this.file ? this.file.written - this.file.read : 0;
  }

  /** Queues `data` (copied: PGlite reuses its buffer) behind everything written before. */
  write(data: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (!this.file && this.socket.writableLength < this.highWaterMark) {
      this.socket.write(Buffer.from(data));
      return;
    }
    this.staged.push(Buffer.from(data));
    this.stagedBytes += data.length;
    if (this.stagedBytes >= FILE_BLOCK) this.spill();
    if (this.spilledBytes > MAX_SPILL_BYTES) this.socket.destroy();
  }

  /** Resolves once everything is handed to the socket and its buffer is below the mark (or the socket is gone). */
  ready(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    const waiting = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.pump();
    return waiting;
  }

  private isReady(): boolean {
    return (
      this.socket.destroyed || (!this.file && this.stagedBytes === 0 && this.socket.writableLength < this.highWaterMark)
    );
  }

  /** Moves the staged bytes to the end of the file, opening one when needed. */
  private spill(): void {
    if (!this.file) {
      const path = join(tmpdir(), `pulse-wire-${process.pid}-${randomUUID()}`);
      const fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path);
      this.file = { fd, written: 0, read: 0 };
    }
    const block = Buffer.concat(this.staged, this.stagedBytes);
    this.staged = [];
    this.stagedBytes = 0;
    for (let offset = 0; offset < block.length;)
      offset += writeSync(this.file.fd, block, offset, block.length - offset, this.file.written + offset);
    this.file.written += block.length;
  }

  /** Feeds the socket from the file, then from what is staged, while it takes more. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.socket.destroyed && this.socket.writableLength < this.highWaterMark) {
        if (this.file && this.file.read < this.file.written) {
          const block = Buffer.allocUnsafe(Math.min(FILE_BLOCK, this.file.written - this.file.read));
          const n = readSync(this.file.fd, block, 0, block.length, this.file.read);
          this.file.read += n;
          this.socket.write(block.subarray(0, n));
        } else if (this.stagedBytes > 0) {
          const block = Buffer.concat(this.staged, this.stagedBytes);
          this.staged = [];
          this.stagedBytes = 0;
          this.socket.write(block);
        } else {
          this.closeFile();
          break;
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.isReady()) for (const resolve of this.waiters.splice(0)) resolve();
  }

  private closeFile(): void {
    if (!this.file) return;
    closeSync(this.file.fd);
    this.file = null;
  }

  private dispose(): void {
    this.closeFile();
    this.staged = [];
    this.stagedBytes = 0;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
