import { normalizeSubscription, SubscriptionError } from './subscription.js';

describe('normalizeSubscription', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'refuses window %j, a property every object has',
    (window) => {
      expect(() => normalizeSubscription({ metrics: ['ticket_count'], window })).toThrow(SubscriptionError);
      expect(() => normalizeSubscription({ metrics: ['ticket_count'], window })).toThrow(/window must be one of/);
    },
  );

  it.each(['1h', '24h', '7d', '30d'])('accepts window %s (control)', (window) => {
    expect(normalizeSubscription({ metrics: ['ticket_count'], window, granularity: 'daily' }).window).toBe(window);
  });
});
