import type { TicketsService } from '../tickets/tickets.service.js';
import { TicketSimulator } from './simulator.js';

/** Records the writes; every list is empty, so only creations happen. */
function recordingTickets() {
  const created: unknown[] = [];
  const service = {
    create: async (_org: number, body: unknown) => void created.push(body),
    list: async () => ({ items: [], next_cursor: null }),
    update: async () => undefined,
  };
  return { created, service: service as unknown as TicketsService };
}

describe('TicketSimulator', () => {
  it('creates tickets at the rate it is given, per hour of simulated time, whatever its tick', async () => {
    for (const tickMs of [500, 3000, 60_000]) {
      const { created, service } = recordingTickets();
      const simulator = new TicketSimulator(service, { organizationId: 1, seed: 7, ticketsPerHour: () => 40 });
      const hours = 10;
      for (let elapsed = 0; elapsed < hours * 3_600_000; elapsed += tickMs) await simulator.tick(tickMs);
      // 400 expected; a Poisson count's standard deviation is 20.
      expect(created.length, `${tickMs} ms ticks`).toBeGreaterThan(340);
      expect(created.length, `${tickMs} ms ticks`).toBeLessThan(460);
    }
  });
});
