import { FEED_START, feedPosition, positionInCommit, type FeedRecord, type PutEventsOptions, type StoredEvent } from '@keyvent/core';

/**
 * One document per commit. Data and metadata are JSON text, so any JSON (keys such as `$set`, `a.b`
 * or `__proto__` included) round-trips exactly on MongoDB and on MongoDB-protocol servers alike.
 */
export interface CommitDocument {
  /** The stream key. */
  k: string;
  /** First and last sequence of the commit. */
  f: number;
  l: number;
  /** Every sequence of the commit: the unique multikey index (k, s) refuses any overlap. */
  s: number[];
  /**
   * Only on a stream's first commit: the key's UTF-8 bytes in hex, for listing. Hex compares as the
   * bytes do under any server's string order, so listing is in code point order on every server.
   */
  o?: string;
  /** The commit's timestamp (one per commit). */
  ts: string;
  /** The change feed: the feed position of the commit's first event, and the stream's slice. */
  fx?: string;
  sl?: number;
  e: { t: string; d: string; i: string; m?: string }[];
}

export function toDocument(events: readonly StoredEvent[], feed?: PutEventsOptions['feed']): CommitDocument {
  const first = events[0]!;
  const commit: CommitDocument = {
    k: first.key,
    f: first.sequence,
    l: events[events.length - 1]!.sequence,
    s: events.map((event) => event.sequence),
    ts: first.timestamp,
    e: events.map((event) =>
      event.metadata === undefined
        ? { t: event.type, d: JSON.stringify(event.data), i: event.id }
        : { t: event.type, d: JSON.stringify(event.data), i: event.id, m: JSON.stringify(event.metadata) },
    ),
  };
  if (first.sequence === 1) commit.o = orderKey(first.key);
  if (feed) {
    commit.fx = feedPosition(feed.stamp, feed.hash, first.sequence);
    commit.sl = feed.slice;
  }
  return commit;
}

export const orderKey = (key: string): string => Buffer.from(key, 'utf8').toString('hex');

/** The events of a commit with sequence greater than `after` and at most `last`. */
export function fromDocument(commit: CommitDocument, after = 0, last = Number.MAX_SAFE_INTEGER): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (let i = Math.max(0, after - commit.f + 1); i < commit.e.length && commit.f + i <= last; i++) {
    const entry = commit.e[i]!;
    const event: StoredEvent = { key: commit.k, sequence: commit.f + i, type: entry.t, data: JSON.parse(entry.d), id: entry.i, timestamp: commit.ts };
    if (entry.m !== undefined) event.metadata = JSON.parse(entry.m);
    events.push(event);
  }
  return events;
}

/** The events of a commit as `fromDocument` gives them, with their feed positions (`''` before the feed). */
export const recordsOf = (commit: CommitDocument, after?: number, last?: number): FeedRecord[] =>
  fromDocument(commit, after, last).map((event) => ({ event, position: commit.fx ? positionInCommit(commit.fx, event.sequence) : FEED_START }));
