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

/** Whether a result still answers a request that started at `startedAt` (ms since the epoch). */
export function answers(result: StoredResult, startedAt: number): boolean {
  return result.until === undefined || startedAt < result.until;
}
