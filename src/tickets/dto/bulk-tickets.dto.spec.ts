import 'reflect-metadata';
import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import fc from 'fast-check';
import { VALIDATION_OPTIONS } from '../../common/validation.js';
import { BulkTicketsDto } from './bulk-tickets.dto.js';
import { parseTimestamp } from '../../common/time.js';
import { PARSED_TIMESTAMPS, TicketFieldsDto, TIMESTAMP_FIELDS } from './ticket-fields.dto.js';

/** The decorators alone: what BulkTicketsDto.accept must agree with whenever it answers. */
const decorators = new ValidationPipe(VALIDATION_OPTIONS);
const body: ArgumentMetadata = { type: 'body', metatype: BulkTicketsDto };

async function byDecorators(value: unknown): Promise<{ dto: unknown } | { refused: true }> {
  try {
    return { dto: withInstants(await decorators.transform(structuredClone(value), body)) };
  } catch {
    return { refused: true };
  }
}

/**
 * A DTO of the decorators with what `accept` adds to its items: the instants
 * of their timestamps (PARSED_TIMESTAMPS), as parseTimestamp reads them.
 */
function withInstants(dto: unknown): unknown {
  if (!(dto instanceof BulkTicketsDto)) return dto;
  for (const ticket of dto.tickets) {
    const given = TIMESTAMP_FIELDS.filter((f) => typeof ticket[f] === 'string');
    if (given.length > 0)
      ticket[PARSED_TIMESTAMPS] = Object.fromEntries(given.map((f) => [f, parseTimestamp(ticket[f]!, 'UTC')]));
  }
  return dto;
}

const validTime = fc.constantFrom(
  '2025-03-01T10:00:00Z',
  '2025-03-01T10:00:00.123Z',
  '2025-03-01T10:00:00+05:30',
  '2025-03-01T10:00+0530',
  '2025-03-01',
  '2025-03-01T10:00:00',
);
const validText = fc.string({ minLength: 1, maxLength: 128 });
const validSlug = fc.stringMatching(/^[a-z0-9_-]{1,64}$/);
const validScore = fc.double({ min: -1, max: 1, noNaN: true });
const nullable = <T>(valid: fc.Arbitrary<T>) => fc.oneof(fc.constant(null), valid);

/** Each field's valid values. */
const valid = {
  external_id: nullable(validText),
  status: fc.constantFrom('open', 'in_progress', 'pending', 'resolved', 'closed'),
  priority: fc.constantFrom('low', 'medium', 'high', 'urgent'),
  channel: validSlug,
  category: validSlug,
  assignee_id: nullable(validText),
  sentiment_score: nullable(validScore),
  created_at: validTime,
  first_response_at: nullable(validTime),
  resolved_at: nullable(validTime),
};

/** Values at and past the edges of what the decorators accept, for any field. */
const edge = fc.oneof(
  fc.constantFrom('', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 'unassigned', 'Email', 'a b'),
  fc.constantFrom('😀'.repeat(64), '😀'.repeat(65), 'a\uFE0F', '\uFE0F', '\uD800', 'x'.repeat(127) + '\uD800'),
  fc.constantFrom('2025-02-29T00:00:00Z', '2025-13-01T00:00:00Z', '1899-12-31T23:59:59Z', 'yesterday', 'critical'),
  fc.constantFrom(-1, 1, 1.0000001, -1.5, 0, Number.NaN, Number.POSITIVE_INFINITY, '0.5', true, ['a'], { a: 1 }),
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

const item = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record(fields, { requiredKeys: [], noNullPrototype: true });
const validItem = item(valid);
/** Every field valid but, sometimes, one or two: an acceptor that lets one bad value through is caught. */
const nearlyValidItem = item(
  Object.fromEntries(
    Object.entries(valid).map(([name, ok]) => [
      name,
      fc.oneof({ weight: 8, arbitrary: ok }, { weight: 1, arbitrary: edge }),
    ]),
  ),
);

describe('BulkTicketsDto.accept', () => {
  it('accepts only what the decorators accept, and builds the same DTO', async () => {
    const anyItem = fc.oneof(
      { weight: 20, arbitrary: nearlyValidItem },
      { weight: 1, arbitrary: fc.record({ ...valid, foo: fc.constant(1) }, { requiredKeys: ['foo'] }) },
      { weight: 1, arbitrary: fc.record(valid, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.constantFrom(null, 'x', 3, [], [{}]) },
    );
    const tickets = (minLength: number) => fc.array(anyItem, { minLength, maxLength: 3 });
    const anyBody = fc.oneof(
      { weight: 10, arbitrary: fc.record({ tickets: tickets(1) }, { noNullPrototype: true }) },
      { weight: 1, arbitrary: fc.record({ tickets: tickets(0) }) },
      { weight: 1, arbitrary: fc.record({ tickets: tickets(1), extra: fc.constant(1) }) },
      { weight: 1, arbitrary: fc.constantFrom(null, [], 'x', { tickets: {} }, { tickets: 'x' }, {}) },
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(anyBody, async (value) => {
        const fast = BulkTicketsDto.accept(value);
        if (fast === undefined) return;
        accepted++;
        expect(await byDecorators(value)).toStrictEqual({ dto: fast });
      }),
      { numRuns: 5000 },
    );
    // The generator reaches the accepted side too, or the property above says nothing.
    expect(accepted).toBeGreaterThan(50);
  });

  it('accepts the common valid bodies without the decorators', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(validItem, { minLength: 1, maxLength: 5 }), async (tickets) => {
        const fast = BulkTicketsDto.accept({ tickets });
        expect(fast).toBeInstanceOf(BulkTicketsDto);
        expect(fast!.tickets.every((t) => t instanceof TicketFieldsDto)).toBe(true);
        expect(await byDecorators({ tickets })).toStrictEqual({ dto: fast });
      }),
      { numRuns: 300 },
    );
  });

  it('leaves an empty batch, or one item more than the limit, to the decorators', () => {
    expect(BulkTicketsDto.accept({ tickets: [] })).toBeUndefined();
    expect(BulkTicketsDto.accept({ tickets: Array.from({ length: 10_001 }, () => ({})) })).toBeUndefined();
    expect(BulkTicketsDto.accept({ tickets: Array.from({ length: 10_000 }, () => ({})) })?.tickets).toHaveLength(
      10_000,
    );
  });
});
