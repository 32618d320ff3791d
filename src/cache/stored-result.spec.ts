import { answers, deserialize, serialize } from './stored-result.js';

describe('stored results', () => {
  it('keep their ETag, body and expiry through storage', () => {
    const plain = { etag: '"abc"', body: '{"a":"x y\\nz"}' };
    expect(deserialize(serialize(plain))).toEqual(plain);
    const expiring = { ...plain, until: 1_750_000_000_123 };
    expect(deserialize(serialize(expiring))).toEqual(expiring);
  });

  it('answer only requests that start before their expiry', () => {
    const result = { etag: '"e"', body: '{}', until: 1000 };
    expect(answers(result, 999)).toBe(true);
    expect(answers(result, 1000)).toBe(false);
    expect(answers({ etag: '"e"', body: '{}' }, Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});
