import fc from 'fast-check';
import { CacheKeys, canonicalJson, digestOf, etagOf } from './cache-keys.js';
import { scopeOfPattern, scopesOf, spansAt, spansOf } from './cache-scopes.js';

describe('cache keys', () => {
  it('digests equal queries equally whatever their key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(digestOf({ metric: 'x', filters: { status: ['open'] } })).toBe(
      digestOf({ filters: { status: ['open'] }, metric: 'x' }),
    );
    expect(digestOf({ filters: { status: ['open'] } })).not.toBe(digestOf({ filters: { status: ['pending'] } }));
  });

  it('keeps every key of an organization in its hash slot and apart from others', () => {
    const keys = new CacheKeys('pulse');
    const entry = keys.entry(42, 'dashboard', 'abc', 't.1.2');
    for (const key of [entry, keys.lock(entry), keys.generation(42, 'org'), keys.counters(42), keys.index(42)]) {
      expect(key.startsWith('pulse:{o42}:')).toBe(true);
    }
    expect(keys.entry(4, 'dashboard', 'abc', 't.1.2')).not.toBe(entry);
  });

  it('derives strong ETags from the body', () => {
    expect(etagOf('{"a":1}')).toBe(etagOf('{"a":1}'));
    expect(etagOf('{"a":1}')).not.toBe(etagOf('{"a":2}'));
    expect(etagOf('x')).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });
});

describe('cache scopes', () => {
  const at = (iso: string) => new Date(iso);

  it('orders a result’s scopes canonically: organization, section, current, metrics, then their spans', () => {
    const range = { start: at('2026-03-10T00:00:00Z'), end: at('2026-04-02T00:00:00Z') };
    expect(scopesOf('dashboard', { metrics: ['sentiment_score', 'ticket_count'], range })).toEqual([
      'org',
      'section:dashboard',
      'current',
      'metric:ticket_count',
      'metric:sentiment_score',
      'metric:ticket_count@m2026-03',
      'metric:ticket_count@m2026-04',
      'metric:sentiment_score@m2026-03',
      'metric:sentiment_score@m2026-04',
    ]);
  });

  it('covers a range with the UTC months it touches, whole years as one span', () => {
    expect(spansOf(at('2026-01-31T23:00:00Z'), at('2026-02-01T00:00:00Z'))).toEqual(['m2026-01']);
    expect(spansOf(at('2026-01-31T23:00:00Z'), at('2026-02-01T00:00:01Z'))).toEqual(['m2026-01', 'm2026-02']);
    expect(spansOf(at('2026-05-01T00:00:00Z'), at('2026-05-01T00:00:00Z'))).toEqual([]);
    expect(spansOf(at('2023-11-15T00:00:00Z'), at('2026-02-10T00:00:00Z'))).toEqual([
      'm2023-11',
      'm2023-12',
      'y2024',
      'y2025',
      'm2026-01',
      'm2026-02',
    ]);
    // A year whose twelve months are all touched, even partly, is one span.
    expect(spansOf(at('2025-01-20T00:00:00Z'), at('2025-12-02T00:00:00Z'))).toEqual(['y2025']);
  });

  it('bounds the spans of any range: at most 22 months plus its whole years', () => {
    fc.assert(
      fc.property(
        fc.date({ min: at('1990-01-01T00:00:00Z'), max: at('2060-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 20 * 366 * 86_400_000 }),
        (start, length) => {
          const end = new Date(start.getTime() + length);
          const spans = spansOf(start, end);
          const years = end.getUTCFullYear() - start.getUTCFullYear() + 1;
          expect(spans.length).toBeLessThanOrEqual(22 + years);
          // Every write inside the range touches one of them; one outside touches none.
          const inside = new Date(start.getTime() + Math.floor(length / 2));
          if (length > 0) expect(spansAt(inside).some((s) => spans.includes(s))).toBe(true);
          const before = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth()) - 1);
          expect(spansAt(before).some((s) => spans.includes(s))).toBe(false);
        },
      ),
    );
  });

  it('makes only the dashboard depend on the current tickets (its backlog and queue)', () => {
    const range = { start: at('2026-03-10T00:00:00Z'), end: at('2026-03-12T00:00:00Z') };
    expect(scopesOf('dashboard', { metrics: ['ticket_count'], range })).toEqual([
      'org',
      'section:dashboard',
      'current',
      'metric:ticket_count',
      'metric:ticket_count@m2026-03',
    ]);
    for (const section of ['time-series', 'aggregations', 'performance', 'distribution'] as const) {
      expect(scopesOf(section, { metrics: ['ticket_count'], range })).not.toContain('current');
    }
  });

  it('maps DELETE patterns to one scope and refuses others', () => {
    expect(scopeOfPattern(undefined)).toEqual({ pattern: 'all', scope: 'org' });
    expect(scopeOfPattern('performance')).toEqual({ pattern: 'performance', scope: 'section:performance' });
    expect(scopeOfPattern('resolution_time')).toEqual({ pattern: 'resolution_time', scope: 'metric:resolution_time' });
    expect(() => scopeOfPattern('analytics:*')).toThrow(/pattern must be one of/);
  });
});
