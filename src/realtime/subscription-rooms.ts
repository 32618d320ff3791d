import type { NormalizedSubscription } from './subscription.js';

export interface Room {
  readonly name: string;
  readonly organizationId: number;
  readonly subscription: NormalizedSubscription;
  readonly sockets: Set<string>;
  timer?: NodeJS.Timeout;
  ticking?: boolean;
}

/**
 * The subscription rooms that have sockets on this instance. A room starts
 * its ticker when its first local socket joins and stops it when the last
 * one leaves, so the work per interval follows distinct subscriptions.
 */
export class SubscriptionRooms {
  private readonly rooms = new Map<string, Room>();

  constructor(
    private readonly onFirstJoin: (room: Room) => void,
    private readonly onLastLeave: (room: Room) => void,
  ) {}

  join(name: string, organizationId: number, subscription: NormalizedSubscription, socketId: string): Room {
    let room = this.rooms.get(name);
    if (!room) {
      room = { name, organizationId, subscription, sockets: new Set() };
      this.rooms.set(name, room);
      this.onFirstJoin(room);
    }
    room.sockets.add(socketId);
    return room;
  }

  leave(name: string | undefined, socketId: string): void {
    const room = name ? this.rooms.get(name) : undefined;
    if (!room) return;
    room.sockets.delete(socketId);
    if (room.sockets.size === 0) {
      this.rooms.delete(name!);
      this.onLastLeave(room);
    }
  }

  ofOrganization(organizationId: number): Room[] {
    return [...this.rooms.values()].filter((room) => room.organizationId === organizationId);
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }
}
