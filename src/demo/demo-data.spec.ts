import { generateDemoTickets, seededRatePerHour } from './demo-data.js';

const HOUR = 3_600_000;
const NOW = new Date('2025-06-11T15:20:00Z');

describe('generateDemoTickets', () => {
  it('makes exactly the number of tickets asked for, all in the history before now', () => {
    for (const tickets of [0, 1, 7, 12_345, 50_000]) {
      const generated = generateDemoTickets({ now: NOW, tickets });
      expect(generated).toHaveLength(tickets);
      for (const t of generated) {
        expect(t.created_at.getTime()).toBeLessThan(NOW.getTime());
        expect(t.created_at.getTime()).toBeGreaterThanOrEqual(NOW.getTime() - 91 * 24 * HOUR);
      }
    }
  });
});

describe('seededRatePerHour', () => {
  const tickets = generateDemoTickets({ now: NOW, tickets: 50_000 });

  /** What the history shows for a local hour of the week: its mean over the last four weeks. */
  function observed(weekday: number, hour: number): number {
    const since = NOW.getTime() - 28 * 24 * HOUR;
    const inSlot = tickets.filter((t) => {
      const at = t.created_at;
      return at.getTime() >= since && at.getUTCDay() === weekday && at.getUTCHours() === hour;
    });
    return inSlot.length / 4;
  }

  it('writes at the seeded history’s rate for the hour: a busy weekday morning and a quiet night alike', () => {
    const rate = seededRatePerHour({ now: NOW, tickets: 50_000 });
    // Tuesdays at 10:00 and 03:00 UTC (the history ends on a Wednesday, so four whole Tuesdays are in range).
    const morning = rate(new Date('2025-06-17T10:30:00Z'));
    const night = rate(new Date('2025-06-17T03:30:00Z'));
    // The rate is that of the end of the history, which grows over it: a little above the last weeks' mean.
    expect(morning / observed(2, 10)).toBeGreaterThan(0.9);
    expect(morning / observed(2, 10)).toBeLessThan(1.35);
    expect(night / observed(2, 3)).toBeGreaterThan(0.6);
    expect(night / observed(2, 3)).toBeLessThan(1.6);
    // About the seeded mean over a week: 50,000 tickets in 90 days are ~23 an hour.
    let week = 0;
    for (let h = 0; h < 168; h++) week += rate(new Date(NOW.getTime() + h * HOUR));
    expect(week / 168).toBeGreaterThan(0.9 * (50_000 / (90 * 24)));
    expect(week / 168).toBeLessThan(1.3 * (50_000 / (90 * 24)));
  });
});
