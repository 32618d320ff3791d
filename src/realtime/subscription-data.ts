import type { Room } from './subscription-rooms.js';

/**
 * `subscription_data` is built once per room for all the sockets that asked
 * for it before the build started, encoded once and written to each of them
 * as text (SocketNamespace.emitToSockets: a copy a socket holds only until it
 * has taken the write). While a room's build runs, new requests wait for the
 * next one: a build never answers a request made after it started, so a
 * subscribe made after a write sees the write, as every read does. However
 * many subscribes arrive, a room has at most one build running and one waiting.
 */
export class SubscriptionData<T> {
  private readonly running = new Map<string, Promise<void>>();
  private readonly waiting = new Map<string, Batch>();

  constructor(
    private readonly build: (room: Room) => Promise<T>,
    /** Sends `payload` to the sockets (ids) of this instance that still want it. */
    private readonly send: (payload: T, socketIds: string[]) => void,
  ) {}

  /**
   * Resolves once the build that serves this request has been sent (to this
   * socket if `wanted()` still holds then); rejects when that build failed.
   */
  request(room: Room, socketId: string, wanted: () => boolean): Promise<void> {
    let batch = this.waiting.get(room.name);
    if (!batch) {
      const members = new Map<string, () => boolean>();
      const before = this.running.get(room.name) ?? Promise.resolve();
      // Requests of the same turn of the event loop share the build that starts at its end.
      const done = before.catch(() => undefined).then(() => this.start(room, members));
      batch = { members, done };
      this.waiting.set(room.name, batch);
    }
    batch.members.set(socketId, wanted);
    return batch.done;
  }

  /** Rooms with a build running or waiting (for tests). */
  get busy(): number {
    return new Set([...this.running.keys(), ...this.waiting.keys()]).size;
  }

  private start(room: Room, members: Map<string, () => boolean>): Promise<void> {
    this.waiting.delete(room.name);
    // Every socket that asked may have moved on (unsubscribed, resubscribed, left) while it waited.
    if (![...members.values()].some((wanted) => wanted())) return Promise.resolve();
    const run = this.build(room).then((payload) => {
      const socketIds = [...members].filter(([, wanted]) => wanted()).map(([id]) => id);
      if (socketIds.length > 0) this.send(payload, socketIds);
    });
    this.running.set(room.name, run);
    const forget = () => {
      if (this.running.get(room.name) === run) this.running.delete(room.name);
    };
    run.then(forget, forget);
    return run;
  }
}

interface Batch {
  readonly members: Map<string, () => boolean>;
  readonly done: Promise<void>;
}
