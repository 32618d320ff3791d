import { STATUS_CODES } from 'node:http';
import type { HttpResult } from './http.js';

export type Expected = string | RegExp;

/** Asserts the contract's error body and header; every `expected` must appear in the message(s). */
export function expectError(res: HttpResult, status: number, ...expected: Expected[]) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type') ?? '').toContain('application/json');
  const body = res.body;
  expect(body).toMatchObject({
    statusCode: status,
    error: STATUS_CODES[status],
    code: expect.any(String),
    request_id: expect.any(String),
  });
  expect(body.code).not.toBe('');
  expect(body.request_id).not.toBe('');
  expect(res.headers.get('x-request-id')).toBe(body.request_id);
  const messages: unknown[] = typeof body.message === 'string' ? [body.message] : body.message;
  expect(Array.isArray(messages) && messages.length > 0, `message: ${JSON.stringify(body.message)}`).toBe(true);
  for (const m of messages) expect(typeof m).toBe('string');
  const text = messages.join('\n');
  for (const e of expected) {
    if (typeof e === 'string') expect(text).toContain(e);
    else expect(text).toMatch(e);
  }
  // Never a stack trace.
  expect(res.text).not.toMatch(/\n\s+at |\.(ts|js):\d+:\d+/);
  return body;
}
