import { securityHeaders } from './security-headers.js';

describe('securityHeaders', () => {
  const { plain, secure } = securityHeaders();

  it('keeps pages to the service’s own scripts, over TLS and plain HTTP alike', () => {
    for (const headers of [plain, secure]) {
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['content-security-policy']).toContain("default-src 'self'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    }
  });

  it('asks browsers to upgrade and to remember TLS only over TLS', () => {
    expect(secure['content-security-policy']).toContain('upgrade-insecure-requests');
    expect(secure['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(plain['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(plain).not.toHaveProperty('strict-transport-security');
  });
});
