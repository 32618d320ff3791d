/** Fields a property test generates for a ticket write; timestamps after creation are offsets in ms. */
export interface GeneratedFields {
  readonly status?: string;
  readonly priority?: string;
  readonly channel?: string;
  readonly category?: string;
  readonly assignee_id?: string | null;
  readonly sentiment_score?: number | null;
  readonly created_at?: number;
  readonly first_response_after?: number | null;
  readonly resolved_after?: number;
}

/**
 * A request body from generated fields: timestamps after `created_at`,
 * `resolved_at` only when closed. `createdAt` is the stored ticket's (a
 * PATCH), or null for a new ticket, which then gets `fallback` unless the
 * fields name one.
 */
export function ticketBody(f: GeneratedFields, createdAt: number | null, fallback: number): Record<string, unknown> {
  const created = f.created_at ?? createdAt ?? fallback;
  const out: Record<string, unknown> = {};
  for (const key of ['status', 'priority', 'channel', 'category', 'assignee_id', 'sentiment_score'] as const) {
    if (f[key] !== undefined) out[key] = f[key];
  }
  if (f.created_at !== undefined || createdAt === null) out.created_at = new Date(created).toISOString();
  if (f.first_response_after !== undefined) {
    out.first_response_at =
      f.first_response_after === null ? null : new Date(created + f.first_response_after).toISOString();
  }
  if ((f.status === 'resolved' || f.status === 'closed') && f.resolved_after !== undefined) {
    out.resolved_at = new Date(created + f.resolved_after).toISOString();
  }
  return out;
}
