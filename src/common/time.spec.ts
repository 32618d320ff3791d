import { canonicalZone, formatTimestamp, parseTimestamp, periodRange } from './time.js';

describe('time', () => {
  it('canonicalizes zone names and refuses non-zones', () => {
    expect(canonicalZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalZone('UTC')).toBe('UTC');
    expect(canonicalZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(canonicalZone('Europe/Kyiv')).toBe('Europe/Kyiv');
    expect(canonicalZone('Mars/Olympus')).toBeNull();
    expect(canonicalZone('+02:00')).toBeNull();
    expect(canonicalZone('')).toBeNull();
  });

  it('reads timestamps without an offset in the given zone, bare dates as local midnight', () => {
    expect(parseTimestamp('2025-03-01', 'Europe/Berlin')?.toISOString()).toBe('2025-02-28T23:00:00.000Z');
    expect(parseTimestamp('2025-07-01T08:30', 'America/New_York')?.toISOString()).toBe('2025-07-01T12:30:00.000Z');
    expect(parseTimestamp('2025-07-01T08:30:00+02:00', 'America/New_York')?.toISOString()).toBe(
      '2025-07-01T06:30:00.000Z',
    );
    expect(parseTimestamp('yesterday', 'UTC')).toBeNull();
    expect(parseTimestamp('0099-01-01', 'UTC')).toBeNull();
  });

  it('refuses offsets no clock has: beyond ±18:00, or 60 minutes and more', () => {
    for (const offset of ['+25:00', '+24:00', '+99:99', '-18:01', '+18:30', '+05:60', '+0575', '-00:99']) {
      expect(parseTimestamp(`2025-01-01T00:00:00${offset}`, 'UTC'), offset).toBeNull();
      expect(parseTimestamp(`2025-01-01t00:00${offset}`, 'UTC'), offset).toBeNull();
    }
    const accepted: [string, string][] = [
      ['+18:00', '2024-12-31T06:00:00.000Z'],
      ['-18:00', '2025-01-01T18:00:00.000Z'],
      ['+14:00', '2024-12-31T10:00:00.000Z'],
      ['-12:00', '2025-01-01T12:00:00.000Z'],
      ['+05:45', '2024-12-31T18:15:00.000Z'],
      ['+0530', '2024-12-31T18:30:00.000Z'],
      ['-03', '2025-01-01T03:00:00.000Z'],
      ['Z', '2025-01-01T00:00:00.000Z'],
    ];
    for (const [offset, utc] of accepted) {
      expect(parseTimestamp(`2025-01-01T00:00:00${offset}`, 'UTC')?.toISOString(), offset).toBe(utc);
    }
    // A bare date ends in digits after a hyphen; that is its day, not an offset.
    expect(parseTimestamp('2025-03-31', 'UTC')?.toISOString()).toBe('2025-03-31T00:00:00.000Z');
  });

  it('writes the zone’s offset at the instant', () => {
    expect(formatTimestamp(new Date('2025-01-01T00:00:00Z'))).toBe('2025-01-01T00:00:00Z');
    expect(formatTimestamp(new Date('2025-01-01T00:00:00.250Z'))).toBe('2025-01-01T00:00:00.250Z');
    expect(formatTimestamp(new Date('2025-03-30T00:30:00Z'), 'Europe/Berlin')).toBe('2025-03-30T01:30:00+01:00');
    expect(formatTimestamp(new Date('2025-03-30T01:30:00Z'), 'Europe/Berlin')).toBe('2025-03-30T03:30:00+02:00');
  });

  it('writes an instant asked for again in each zone as the first time (remembered per zone)', () => {
    const instant = new Date('2025-03-30T01:30:00Z');
    for (let round = 0; round < 2; round++) {
      expect(formatTimestamp(instant, 'Asia/Kathmandu')).toBe('2025-03-30T07:15:00+05:45');
      expect(formatTimestamp(instant, 'Europe/Berlin')).toBe('2025-03-30T03:30:00+02:00');
      expect(formatTimestamp(instant, 'America/St_Johns')).toBe('2025-03-29T23:00:00-02:30');
      expect(formatTimestamp(new Date(instant.getTime() + 1), 'Asia/Kathmandu')).toBe('2025-03-30T07:15:00.001+05:45');
    }
  });

  it('rounds a period’s end up to the next whole minute', () => {
    const { start, end } = periodRange('24h', new Date('2025-01-01T10:00:30.500Z'));
    expect(end.toISOString()).toBe('2025-01-01T10:01:00.000Z');
    expect(start.toISOString()).toBe('2024-12-31T10:01:00.000Z');
  });
});
