import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { createPubSubClients, type RedisClient } from '../redis/redis-client.js';
import type { CommittedWrite } from './realtime.contract.js';

/** How long a first subscribe of an organization waits for its channel before going on without it. */
const SUBSCRIBE_WAIT_MS = 1000;

/**
 * A write with at least this many contributions asks Redis whether another
 * instance listens before it is encoded and sent: a bulk write's message is
 * megabytes, and an organization nobody watches elsewhere is the common case.
 */
const ASK_FIRST = 64;

/** Subscribers of a shard channel, asked of the node that owns its slot (KEYS[1] routes the script there). */
const LISTENERS_SCRIPT = `return redis.call('PUBSUB', 'SHARDNUMSUB', KEYS[1])[2]`;

/** The channel name's parts: the organization's hash tag puts it in the slot of its keys. */
const channelOf = (prefix: string, organizationId: number) => `${prefix}:io:writes{o${organizationId}}`;

interface Message {
  /** The instance that committed the write: it has told its own subscribers already. */
  from: string;
  write: CommittedWrite;
}

/**
 * Committed writes between instances, one sharded pub/sub channel per
 * organization (`SPUBLISH`/`SSUBSCRIBE`, Redis 7). An instance subscribes to
 * an organization's channel while it holds a subscription room of it, so a
 * write reaches only the instances with sockets that may want it, and on a
 * Redis Cluster only the master owning the organization's slot (the one of
 * its cache keys) carries it. socket.io's own adapter has no such channel: its
 * channels are per namespace or per room, and what a write means for a room
 * (its window, its filters) is decided by the instance that holds the room.
 *
 * Best effort, like every realtime message: while Redis is away writes reach
 * only the sockets of the instance that committed them; the subscriber
 * subscribes again when Redis (or a promoted replica) is back. In embedded
 * mode there is one process and no Redis: nothing is published.
 */
@Injectable()
export class WriteChannels implements OnModuleDestroy {
  private readonly logger = new Logger('WriteChannels');
  private readonly id = randomUUID();
  private readonly clients?: { pub: RedisClient; sub: RedisClient };
  /** The organizations whose channel this instance listens to, with the subscribe under way or done. */
  private readonly held = new Map<number, Promise<void>>();
  private handler: (write: CommittedWrite) => void = () => undefined;
  private received = 0;
  private published = 0;
  private unheard = 0;

  constructor(private readonly config: AppConfig) {
    if (config.embedded) return;
    this.clients = createPubSubClients(config, 'pulse-writes');
    this.clients.sub.on('smessageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel, message));
  }

  onModuleDestroy(): void {
    for (const client of Object.values(this.clients ?? {})) client.disconnect();
  }

  /**
   * Read-only, for tests: the organizations listened to, the messages received on their channels
   * so far, the messages published, and the big writes not published because no other instance listened.
   */
  inspect(): { organizations: number[]; received: number; published: number; unheard: number } {
    return {
      organizations: [...this.held.keys()],
      received: this.received,
      published: this.published,
      unheard: this.unheard,
    };
  }

  /** Who is told of the writes other instances committed. */
  onWrite(handler: (write: CommittedWrite) => void): void {
    this.handler = handler;
  }

  /**
   * Listens to the organization's writes from now on (again, when held
   * already: at no cost). Resolves once Redis has confirmed the subscription,
   * or after at most a second (Redis slow or away): a caller that waits for
   * it and then reads the numbers hears of every write committed after them.
   */
  hold(organizationId: number): Promise<void> {
    const sub = this.clients?.sub;
    if (!sub) return Promise.resolve();
    let subscribed = this.held.get(organizationId);
    if (!subscribed) {
      subscribed = sub.ssubscribe(channelOf(this.config.redisKeyPrefix, organizationId)).then(
        () => undefined,
        () => undefined, // resubscribed by the client when Redis is back
      );
      this.held.set(organizationId, subscribed);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)));
    return Promise.race([subscribed, late]).finally(() => clearTimeout(timer));
  }

  /** Stops listening to the organization's writes (this instance has no room of it any more). */
  release(organizationId: number): void {
    const sub = this.clients?.sub;
    if (!sub || !this.held.delete(organizationId)) return;
    sub.sunsubscribe(channelOf(this.config.redisKeyPrefix, organizationId)).catch(() => undefined);
  }

  /**
   * To the instances that hold a room of the write's organization; dropped while Redis is away. A
   * big write of an organization this instance holds no room of is sent only when Redis counts a
   * listener: an instance that subscribes has its subscription confirmed before it reads the
   * numbers its sockets start from (`hold`), and the count is asked after the write committed, so a
   * write those numbers miss finds it counted. (With a room of its own here, this instance is one
   * of the count, and whether Redis has counted it yet is not known: sent.)
   */
  publish(write: CommittedWrite): void {
    const pub = this.clients?.pub;
    if (!pub) return;
    const channel = channelOf(this.config.redisKeyPrefix, write.organizationId);
    const send = () => {
      this.published += 1;
      const message: Message = { from: this.id, write };
      pub.spublish(channel, JSON.stringify(message)).catch(() => undefined);
    };
    if (write.contributions.metric.length < ASK_FIRST || this.held.has(write.organizationId)) return send();
    (pub.eval(LISTENERS_SCRIPT, 1, channel) as Promise<number>).then(
      (listeners) => (listeners > 0 ? send() : (this.unheard += 1)),
      () => undefined,
    );
  }

  private receive(channel: Buffer, raw: Buffer): void {
    const prefix = `${this.config.redisKeyPrefix}:io:writes{`;
    if (!channel.toString().startsWith(prefix)) return;
    this.received += 1;
    let message: Message;
    try {
      message = JSON.parse(raw.toString()) as Message;
    } catch (error) {
      this.logger.warn(`a write message that is not JSON was ignored: ${(error as Error).message}`);
      return;
    }
    if (message.from !== this.id && this.held.has(message.write.organizationId)) this.handler(message.write);
  }
}
