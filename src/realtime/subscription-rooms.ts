import type { NormalizedSubscription } from './subscription.js';

export interface Room {
  readonly name: string;
  readonly organizationId: number;
  readonly subscription: NormalizedSubscription;
  readonly sockets: Set<string>;
  timer?: NodeJS.Timeout;
  ticking?: boolean;
}

/** What happens when the first socket of a room arrives, when its last one leaves, and when an organization's last room closes. */
export interface RoomHooks {
  roomOpened(room: Room): void;
  roomClosed(room: Room): void;
  organizationClosed(organizationId: number): void;
}

/**
 * The subscription rooms that have sockets on this instance, by name and by
 * organization. A room starts its ticker when its first local socket joins
 * and stops it when the last one leaves, so the work per interval follows
 * distinct subscriptions; likewise the instance stops listening to an
 * organization's writes when its last room of it closes.
 */
export class SubscriptionRooms {
  private readonly rooms = new Map<string, Room>();
  private readonly byOrganization = new Map<number, Room[]>();

  constructor(private readonly hooks: RoomHooks) {}

  join(name: string, organizationId: number, subscription: NormalizedSubscription, socketId: string): Room {
    let room = this.rooms.get(name);
    if (!room) {
      room = { name, organizationId, subscription, sockets: new Set() };
      this.rooms.set(name, room);
      const ofOrganization = this.byOrganization.get(organizationId);
      if (ofOrganization) ofOrganization.push(room);
      else this.byOrganization.set(organizationId, [room]);
      this.hooks.roomOpened(room);
    }
    room.sockets.add(socketId);
    return room;
  }

  leave(name: string | undefined, socketId: string): void {
    const room = name ? this.rooms.get(name) : undefined;
    if (!room) return;
    room.sockets.delete(socketId);
    if (room.sockets.size > 0) return;
    this.rooms.delete(room.name);
    this.hooks.roomClosed(room);
    const ofOrganization = this.byOrganization.get(room.organizationId)!.filter((other) => other !== room);
    if (ofOrganization.length > 0) this.byOrganization.set(room.organizationId, ofOrganization);
    else {
      this.byOrganization.delete(room.organizationId);
      this.hooks.organizationClosed(room.organizationId);
    }
  }

  ofOrganization(organizationId: number): readonly Room[] {
    return this.byOrganization.get(organizationId) ?? [];
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }
}
