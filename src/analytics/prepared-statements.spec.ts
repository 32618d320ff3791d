import { describe, expect, it } from 'vitest';
import { PreparedStatements } from './prepared-statements.js';

describe('PreparedStatements', () => {
  it('names each distinct text once, the same name every time', () => {
    const statements = new PreparedStatements(4);
    const a = statements.nameOf('SELECT 1 WHERE $1::int > 0');
    const b = statements.nameOf('SELECT 2 WHERE $1::int > 0');
    expect(a).toMatch(/^pulse_[A-Za-z0-9_-]{24}$/);
    expect(b).toMatch(/^pulse_[A-Za-z0-9_-]{24}$/);
    expect(a).not.toBe(b);
    expect(statements.nameOf(`SELECT 1 WHERE ${'$'}1::int > 0`)).toBe(a);
  });

  it('names at most `max` texts; later ones run unnamed, earlier ones keep their names', () => {
    const statements = new PreparedStatements(2);
    const first = statements.nameOf('SELECT 1');
    statements.nameOf('SELECT 2');
    expect(statements.nameOf('SELECT 3')).toBeUndefined();
    expect(statements.nameOf('SELECT 1')).toBe(first);
    expect(statements.nameOf('SELECT 3')).toBeUndefined();
  });

  it('is off with max 0', () => {
    const statements = new PreparedStatements(0);
    expect(statements.enabled).toBe(false);
    expect(statements.nameOf('SELECT 1')).toBeUndefined();
  });
});
