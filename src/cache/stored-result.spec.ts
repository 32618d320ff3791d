import { answers, deserialize, deserializeBytes, serialize } from './stored-result.js';

describe('stored results', () => {
  it('keep their ETag, body and expiry through storage', () => {
    const plain = { etag: '"abc"', body: '{"a":"x y\\nz"}' };
    expect(deserialize(serialize(plain))).toEqual(plain);
    const expiring = { ...plain, until: 1_750_000_000_123 };
    expect(deserialize(serialize(expiring))).toEqual(expiring);
  });

  it('read the same from bytes, the body a slice of them (UTF-8 kept)', () => {
    for (const result of [
      { etag: '"abc"', body: '{"a":"é ✓ \\n"}' },
      { etag: '"abc"', body: '{"a":"x"}', until: 1_750_000_000_123 },
    ]) {
      const { body, ...head } = deserializeBytes(Buffer.from(serialize(result), 'utf8'));
      expect({ ...head, body: body.toString('utf8') }).toEqual(result);
    }
  });

  it('answer only requests that start before their expiry', () => {
    const result = { etag: '"e"', body: '{}', until: 1000 };
    expect(answers(result, 999)).toBe(true);
    expect(answers(result, 1000)).toBe(false);
    expect(answers({}, Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});
