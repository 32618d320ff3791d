/**
 * A computed result as the cache keeps it: its ETag, its JSON body and, for
 * a result the clock changes, the instant it stops being an answer.
 */
export interface StoredResult {
  readonly body: string;
  readonly etag: string;
  /** ms since the epoch; absent when only writes change the result. */
  readonly until?: number;
}

/** `<etag>[ <until>]\n<body>`: the ETag has no space, so the first line splits unambiguously. */
export function serialize({ body, etag, until }: StoredResult): string {
  return `${until === undefined ? etag : `${etag} ${until}`}\n${body}`;
}

export function deserialize(stored: string): StoredResult {
  const newline = stored.indexOf('\n');
  const [etag, until] = stored.slice(0, newline).split(' ');
  const body = stored.slice(newline + 1);
  return until === undefined ? { etag, body } : { etag, body, until: Number(until) };
}

/**
 * The first line of a stored result read as bytes, and its body as a slice of
 * the same bytes: the hot path sends the body without decoding and
 * re-encoding it.
 */
export function deserializeBytes(stored: Buffer): { etag: string; until?: number; body: Buffer } {
  const newline = stored.indexOf(10);
  const [etag, until] = stored.toString('latin1', 0, newline).split(' ');
  const body = stored.subarray(newline + 1);
  return until === undefined ? { etag: etag!, body } : { etag: etag!, body, until: Number(until) };
}

/** Whether a result still answers a request that started at `startedAt` (ms since the epoch). */
export function answers(result: Pick<StoredResult, 'until'>, startedAt: number): boolean {
  return result.until === undefined || startedAt < result.until;
}
