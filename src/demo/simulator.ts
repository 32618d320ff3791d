import { Logger } from '@nestjs/common';
import type { Priority } from '../metrics/dimensions.js';
import type { TicketsService } from '../tickets/tickets.service.js';
import { AGENTS, CATEGORIES, CHANNELS_OPEN_HOURS, PRIORITIES } from './demo-profile.js';
import { mulberry32, normal, pick, poisson } from './random.js';

export interface SimulatorOptions {
  readonly organizationId: number;
  /** Pause between the end of one tick and the start of the next; default 3 s. */
  readonly intervalMs?: number;
  /**
   * Mean tickets created per hour at an instant (the seeded history's rate,
   * see `seededRatePerHour`); answers and resolutions keep the same pace, so
   * the backlog holds steady.
   */
  readonly ticketsPerHour: (at: Date) => number;
  readonly seed?: number;
}

export interface TickResult {
  readonly created: number;
  readonly answered: number;
  readonly resolved: number;
}

/**
 * Keeps the demo organization alive: every few seconds customers open
 * tickets, agents answer the oldest open ones and resolve some in progress.
 * It writes through TicketsService, the path the API takes, so every write
 * commits, bumps the cache generations and reaches the wallboards exactly as
 * an API write does.
 */
export class TicketSimulator {
  private readonly logger = new Logger('TicketSimulator');
  private readonly random: () => number;
  private readonly intervalMs: number;
  private lastTick = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;

  constructor(
    private readonly tickets: TicketsService,
    private readonly options: SimulatorOptions,
  ) {
    this.random = mulberry32(options.seed ?? Date.now());
    this.intervalMs = options.intervalMs ?? 3000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** No tick starts after this; resolves once the one under way (if any) has finished. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /**
   * One round of activity: as many writes as the rate gives for `elapsedMs`
   * (by default the time since the previous round). Public so a script or a
   * test can drive it without timers.
   */
  async tick(elapsedMs = Date.now() - this.lastTick): Promise<TickResult> {
    this.lastTick = Date.now();
    const org = this.options.organizationId;
    const rate = (this.options.ticketsPerHour(new Date()) * elapsedMs) / 3_600_000;
    const created = poisson(this.random, rate);
    for (let i = 0; i < created; i++) await this.tickets.create(org, this.newTicket());

    // The page is newest first: its end holds the oldest open tickets, answered first as in a queue.
    const open = (await this.tickets.list(org, { status: ['open'], limit: 50 })).items;
    const toAnswer = open.slice(open.length - Math.min(open.length, poisson(this.random, rate)));
    for (const ticket of toAnswer) {
      await this.tickets.update(org, ticket.id, {
        status: 'in_progress',
        first_response_at: new Date().toISOString(),
        assignee_id: ticket.assignee_id ?? pick(this.random, AGENTS),
      });
    }

    const working = (await this.tickets.list(org, { status: ['in_progress', 'pending'], limit: 100 })).items;
    let resolved = 0;
    for (let n = poisson(this.random, rate); n > 0 && working.length > 0; n--) {
      const [ticket] = working.splice(Math.floor(this.random() * working.length), 1);
      // Some customers answer the satisfaction survey when their ticket is resolved.
      const survey = this.random() < 0.6 ? round(clamp(0.35 + 0.35 * normal(this.random))) : undefined;
      await this.tickets.update(org, ticket.id, { status: 'resolved', sentiment_score: survey });
      resolved += 1;
    }
    return { created, answered: toAnswer.length, resolved };
  }

  private newTicket() {
    return {
      priority: pick<Priority>(this.random, PRIORITIES),
      channel: pick(this.random, CHANNELS_OPEN_HOURS),
      category: pick(this.random, CATEGORIES),
    };
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight = this.tick()
        .then(
          (result) => this.logger.debug(`tick: ${JSON.stringify(result)}`),
          (error: Error) => this.logger.warn(`simulated activity failed: ${error.message}`),
        )
        .finally(() => {
          this.inFlight = null;
          if (this.running) this.schedule();
        });
    }, this.intervalMs);
    // The simulator never keeps the process alive by itself.
    this.timer.unref();
  }
}

const clamp = (value: number) => Math.max(-1, Math.min(1, value));
const round = (value: number) => Math.round(value * 100) / 100;
