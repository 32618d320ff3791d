import { parseConfig } from '../config/app-config.js';
import { signToken, TokenService } from './token.service.js';

const SECRET = 'token-spec-secret-0123456789';

describe('TokenService', () => {
  const tokens = new TokenService(
    parseConfig({ DATABASE_URL: 'postgres://localhost/x', REDIS_URL: 'redis://localhost', JWT_SECRET: SECRET }),
  );
  afterEach(() => vi.useRealTimers());

  it('answers a token it verified before only while it has not expired', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
    const token = signToken({ sub: 'tv', org_id: 7, role: 'viewer' }, SECRET, 10);
    const principal = tokens.verify(token);
    expect(principal).toMatchObject({ subject: 'tv', organizationId: 7, role: 'viewer' });
    expect(principal.expiresAt.toISOString()).toBe('2026-01-01T00:00:10.000Z');
    vi.setSystemTime(new Date('2026-01-01T00:00:09.999Z'));
    expect(tokens.verify(token)).toBe(principal);
    // exp reached: refused, as jsonwebtoken refuses it, although it verified before.
    vi.setSystemTime(new Date('2026-01-01T00:00:10.000Z'));
    expect(() => tokens.verify(token)).toThrow('token expired');
  });

  it('does not remember a token verified with remember: false', () => {
    const token = signToken({ sub: 'socket', org_id: 7, role: 'viewer' }, SECRET, 60);
    const first = tokens.verify(token, { remember: false });
    expect(first).toMatchObject({ subject: 'socket', organizationId: 7, role: 'viewer' });
    // Each call verifies anew: a new principal every time, until a call that remembers.
    const second = tokens.verify(token, { remember: false });
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    const remembered = tokens.verify(token);
    expect(remembered).not.toBe(second);
    expect(tokens.verify(token, { remember: false })).toBe(remembered);
  });

  it('never remembers a token that failed', () => {
    const forged = signToken({ sub: 'x', org_id: 7, role: 'admin' }, 'another-secret-0123456789', 60);
    expect(() => tokens.verify(forged)).toThrow('invalid token');
    expect(() => tokens.verify(forged)).toThrow('invalid token');
    expect(tokens.fromHeader(`Bearer ${forged}`)).toBeNull();
  });
});
