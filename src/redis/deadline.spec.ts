import { Redis } from 'ioredis';
import { testConfig } from '../../test/support/app.js';
import { RedisTimeoutError, withDeadline } from './deadline.js';

/** Keeps the event loop busy, as a burst of requests on a saturated CPU does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('withDeadline', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(testConfig().redisUrl);
  });
  afterAll(() => redis.disconnect());

  it('does not time out a reply that arrived while the event loop was busy', async () => {
    await redis.ping();
    const reply = withDeadline(redis.ping(), 50);
    // The reply is in the socket within a millisecond; the timer expires during this.
    busy(300);
    await expect(reply).resolves.toBe('PONG');
  });

  it('a plain timer race would have called it a timeout (what ioredis commandTimeout does)', async () => {
    await redis.ping();
    const plain = Promise.race([
      redis.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 50)),
    ]);
    busy(300);
    await expect(plain).rejects.toThrow('timeout');
  });

  it('times out a reply that really is late', async () => {
    await expect(withDeadline(new Promise(() => undefined), 30)).rejects.toBeInstanceOf(RedisTimeoutError);
  });

  it('passes errors through', async () => {
    await expect(withDeadline(Promise.reject(new Error('boom')), 1000)).rejects.toThrow('boom');
  });
});
