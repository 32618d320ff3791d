/** A ticket body for POST /tickets or /tickets/bulk; override any field. */
export function buildTicket(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: 'open',
    priority: 'medium',
    channel: 'email',
    category: 'general',
    created_at: new Date(Date.now() - 3_600_000).toISOString(),
    ...overrides,
  };
}
