import { CacheKeys, canonicalJson, digestOf, etagOf } from './cache-keys.js';
import { scopeOfPattern, scopesOf } from './cache-scopes.js';

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
  it('orders a result’s scopes canonically', () => {
    expect(scopesOf('time-series', ['sentiment_score', 'ticket_count'])).toEqual([
      'org',
      'section:time-series',
      'metric:ticket_count',
      'metric:sentiment_score',
    ]);
  });

  it('makes only the dashboard depend on the current tickets (its backlog and queue)', () => {
    expect(scopesOf('dashboard', ['ticket_count'])).toEqual([
      'org',
      'section:dashboard',
      'metric:ticket_count',
      'current',
    ]);
    for (const section of ['time-series', 'aggregations', 'performance', 'distribution'] as const) {
      expect(scopesOf(section, ['ticket_count'])).not.toContain('current');
    }
  });

  it('maps DELETE patterns to one scope and refuses others', () => {
    expect(scopeOfPattern(undefined)).toEqual({ pattern: 'all', scope: 'org' });
    expect(scopeOfPattern('performance')).toEqual({ pattern: 'performance', scope: 'section:performance' });
    expect(scopeOfPattern('resolution_time')).toEqual({ pattern: 'resolution_time', scope: 'metric:resolution_time' });
    expect(() => scopeOfPattern('analytics:*')).toThrow(/pattern must be one of/);
  });
});
