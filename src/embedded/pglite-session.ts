const READY_FOR_QUERY = 0x5a; // 'Z'
const ERROR_RESPONSE = 0x45; // 'E'

/** Follows the backend's messages across chunks to know whether the session is idle again. */
export class ResponseTracker {
  /** The last message was ReadyForQuery 'I': no statement, transaction or COPY is open. */
  idle = true;
  /** An ErrorResponse came after the last ReadyForQuery: the backend skips messages until Sync. */
  failedSinceReady = false;
  lastType = 0;
  private readonly header = Buffer.alloc(5);
  private headerBytes = 0;
  private bodyLeft = 0;

  feed(data: Uint8Array): void {
    let i = 0;
    while (i < data.length) {
      if (this.bodyLeft > 0) {
        if (this.lastType === READY_FOR_QUERY) {
          this.idle = data[i] === 0x49; // 'I'; 'T' and 'E' are inside a transaction block
          this.failedSinceReady = false;
        }
        const n = Math.min(this.bodyLeft, data.length - i);
        this.bodyLeft -= n;
        i += n;
        continue;
      }
      this.header[this.headerBytes++] = data[i++];
      if (this.headerBytes < 5) continue;
      this.headerBytes = 0;
      this.lastType = this.header[0];
      this.bodyLeft = this.header.readInt32BE(1) - 4;
      this.idle = false;
      if (this.lastType === ERROR_RESPONSE) this.failedSinceReady = true;
    }
  }
}

/** First come, first served: the one session, handed from connection to connection. */
export class SessionLock {
  /** PGlite failed (its program exited): nothing can run on it any more. */
  broken = false;
  private held = false;
  private readonly waiting: (() => void)[] = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}
