import { isIP } from 'node:net';
import { PRIORITIES, type Priority } from '../metrics/dimensions.js';
import type { RedisNode } from './app-config.js';

/**
 * Readers of one environment value each, for parseConfig: a reader returns
 * the value or throws an Error whose message says what is wrong with it
 * (never the value itself: it may be a secret).
 */

export function oneOf<const T extends string>(allowed: readonly T[]) {
  return (raw: string): T => {
    if (!(allowed as readonly string[]).includes(raw)) throw new Error(`must be one of ${allowed.join(', ')}`);
    return raw as T;
  };
}

export function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw)) throw new Error('must be an integer');
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}`);
    return value;
  };
}

export function decimal(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new Error('must be a number');
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}`);
    return value;
  };
}

export function boolean(raw: string): boolean {
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new Error('must be true or false');
}

export function url(protocols: string[]) {
  return (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error('must be a URL');
    }
    if (!protocols.includes(parsed.protocol)) throw new Error(`must start with ${protocols.join(' or ')}//`);
    return raw;
  };
}

/**
 * REDIS_URL in cluster mode: one or more seed nodes, `redis://host:port`
 * separated by commas (`host:port` after the first takes its scheme). A Redis Cluster has database 0 only, so a URL naming
 * another database is refused rather than silently ignored.
 */
export function clusterNodes(raw: string): RedisNode[] {
  let scheme = 'redis://';
  return raw.split(',').map((entry, index) => {
    const value = entry.trim();
    // `redis://10.0.0.1:7000,10.0.0.2:7000` (API.md §6): an entry without a
    // scheme takes the one before it, credentials not included.
    const full = value.includes('://') ? value : `${scheme}${value}`;
    scheme = `${full.split('://')[0]}://`;
    let parsed: URL;
    try {
      parsed = new URL(full);
    } catch {
      throw new Error(`entry ${index + 1} is not a URL (redis://host:port)`);
    }
    if (!['redis:', 'rediss:'].includes(parsed.protocol)) {
      throw new Error(`entry ${index + 1} must start with redis:// or rediss://`);
    }
    if (!/^\/?0?$/.test(parsed.pathname)) {
      throw new Error(`entry ${index + 1} names a database: a Redis Cluster has database 0 only`);
    }
    return {
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port === '' ? 6379 : Number(parsed.port),
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      tls: parsed.protocol === 'rediss:',
    };
  });
}

export function matching(pattern: RegExp, rule: string) {
  return (raw: string): string => {
    if (!pattern.test(raw)) throw new Error(rule);
    return raw;
  };
}

export function origins(raw: string): string[] {
  return raw.split(',').map((origin, index) => {
    const value = origin.trim();
    let parsed: URL | null = null;
    try {
      parsed = new URL(value);
    } catch {
      // Reported below without the value.
    }
    if (parsed?.origin !== value) {
      throw new Error(
        `entry ${index + 1} is not an origin (scheme://host[:port] only, such as https://wall.example.com)`,
      );
    }
    return value;
  });
}

const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** `false`, `true`, a hop count, or a comma list of addresses, CIDR ranges and the names above. */
export function trustedProxies(raw: string): boolean | number | string[] {
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 100) throw new Error('must be a hop count of at most 100');
    return hops === 0 ? false : hops;
  }
  return raw.split(',').map((entry, index) => {
    const value = entry.trim();
    if (!PROXY_RANGES.includes(value) && !isAddressOrRange(value)) {
      throw new Error(`entry ${index + 1} is not an IP address, a CIDR range or one of ${PROXY_RANGES.join(', ')}`);
    }
    return value;
  });
}

function isAddressOrRange(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

export function slaTargets(raw: string): Record<Priority, number> {
  const targets: Partial<Record<Priority, number>> = {};
  for (const part of raw.split(',')) {
    const [name, hours, extra] = part.split('=').map((s) => s.trim());
    if (!PRIORITIES.includes(name as Priority) || extra !== undefined) {
      throw new Error(`must be priority=hours pairs for ${PRIORITIES.join(', ')}`);
    }
    const value = Number(hours);
    if (hours === '' || !Number.isFinite(value) || value <= 0) throw new Error(`has a bad target for ${name}`);
    targets[name as Priority] = value;
  }
  const missing = PRIORITIES.filter((p) => targets[p] === undefined);
  if (missing.length > 0) throw new Error(`is missing ${missing.join(', ')}`);
  return targets as Record<Priority, number>;
}
