import { ClassicLevel } from 'classic-level';
import {
  commitPrefixOf,
  compareKeys,
  ConcurrencyError,
  FEED_START,
  feedPosition,
  positionInCommit,
  sequenceOf,
  type DriverFeed,
  type FeedReadOptions,
  type FeedRecord,
  type FetchOptions,
  type KeyValueDriver,
  layoutCheck,
  pageBudget,
  resumeInCommit,
  type ListKeysOptions,
  type PutEventsOptions,
  type StoredEvent,
} from '@keyvent/core';
import { feedCounterOf } from './feed-counter.js';
import { streamLockOf } from './keyed-lock.js';
import { openDatabase } from './open-database.js';

export type LevelDriverOptions = {
  /** Keep the change feed (its index and checkpoint rows). Default true; false writes no index (for stores that need no feed, and to measure its cost). */
  feed?: boolean;
} & (
  | {
      /** Directory of the LevelDB database; created if missing. The driver opens and closes it. */
      location: string;
    }
  | {
      /**
       * Your own open database (utf8 keys and values, the classic-level default). The driver never closes it.
       * Several drivers (and stores) may share one: they share its per-stream lock.
       */
      db: ClassicLevel<string, string>;
    }
);

// Layout (utf8 keys, so LevelDB's byte order is code point order):
//   e<key length, 4 hex><key><sequence, 14 hex>  →  {"type","data","id","timestamp","metadata"?,"p"?}   (p: its feed position)
//   s<key>                                       →  last sequence (decimal)
//   x<feed position of the commit's first event>  →  {"k": key, "n": event count, "s": slice}   (the change feed)
//   c<consumer row name>                          →  {"v": version, "value": checkpoint}
//   layout                                        →  the layout version ("3"; layouts 1, unmarked, and 2 had no "p":
//                                                    opening one adds it from the feed's keys)
// The length prefix keeps one stream's events apart from those of a key that extends it.
const LAYOUT_KEY = 'layout';
const LAYOUT_VERSION = '3';
const SEQUENCE_DIGITS = 14; // 16^14 > 2^53

function streamPrefix(key: string): string {
  return `e${key.length.toString(16).padStart(4, '0')}${key}`;
}

function eventKey(key: string, sequence: number): string {
  return streamPrefix(key) + sequence.toString(16).padStart(SEQUENCE_DIGITS, '0');
}

const headKey = (key: string) => `s${key}`;

/**
 * A driver on an embedded LevelDB database: no server, data on local disk, the default for local use.
 * Commits are one atomic LevelDB batch; a per-stream lock, shared by every driver on the same database
 * object, makes the existence check and the batch one step, so concurrent appends never duplicate a
 * sequence. LevelDB admits one process per directory: while another process holds it, every call
 * fails with a `DriverError` saying so.
 *
 * @example
 * ```ts
 * const store = createStore(createLevelDriver({ location: './data/events' }));
 * ```
 */
export function createLevelDriver(options: LevelDriverOptions): KeyValueDriver {
  const owned = 'location' in options;
  const db = owned ? new ClassicLevel<string, string>(options.location) : options.db;
  const runExclusive = streamLockOf(db);
  let opening: Promise<void> | undefined;
  let opened = false;
  let closing: Promise<void> | undefined;
  const where = owned ? options.location : 'the database';
  // Layouts 1 (unmarked) and 2 differ only in the events' feed positions: added, then the marker written.
  const checkLayout = layoutCheck('level', LAYOUT_VERSION, where, async () => {
    const found = await db.get(LAYOUT_KEY);
    if (found !== undefined && found !== '2') return found;
    await addFeedPositions();
    await db.put(LAYOUT_KEY, LAYOUT_VERSION);
    return LAYOUT_VERSION;
  });

  /**
   * Layout 2 → 3: writes into each event the position its commit's feed key gives it (idempotent, so an
   * upgrade cut short runs again on the next open). Events with no feed key were written with the feed off.
   */
  async function addFeedPositions(): Promise<void> {
    let batch = db.batch();
    for await (const [entryKey, value] of db.iterator({ gte: 'x', lt: 'y' })) {
      const { k: key, n: count } = JSON.parse(value) as { k: string; n: number };
      const position = entryKey.slice(1);
      const first = sequenceOf(position);
      for await (const [storedKey, stored] of db.iterator({ gte: eventKey(key, first), lte: eventKey(key, first + count - 1) })) {
        const sequence = parseInt(storedKey.slice(streamPrefix(key).length), 16);
        batch.put(storedKey, JSON.stringify({ ...JSON.parse(stored), p: positionInCommit(position, sequence) }));
      }
      if (batch.length >= 1000) {
        await batch.write();
        batch = db.batch();
      }
    }
    await batch.write();
  }

  /** Opens the database (once; never again after close: the handle would leak) and checks its layout. */
  function ready(): Promise<void> {
    if (closing) return Promise.resolve();
    // Forgotten on failure, so that a call after the other process has let go opens the directory.
    return (opening ??= (owned ? openDatabase(db, options.location) : Promise.resolve()).then(checkLayout).then(
      () => void (opened = true),
      (error: unknown) => {
        opening = undefined;
        throw error;
      },
    ));
  }

  /** `call`, once the database is open: straight through (no promise of its own) from then on. */
  function whenOpen<A extends unknown[], R>(call: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return (...args) => (opened ? call(...args) : ready().then(() => call(...args)));
  }

  async function lastSequence(key: string): Promise<number> {
    return Number((await db.get(headKey(key))) ?? 0);
  }

  async function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    const first = events[0]!;
    const last = events[events.length - 1]!;
    const counter = putOptions?.feed ? await feedCounterOf(db) : undefined;
    await runExclusive(first.key, async () => {
      // The head is written in the same batch as the events, so it alone tells what exists: the
      // sequences 1..head. One read, under the stream's lock, decides both the prior check and overlap.
      const head = await lastSequence(first.key);
      const base = first.sequence - 1;
      // With checkPrior, event `base` must exist: never event 0.
      if (head > base || (putOptions?.checkPrior && (head < base || base === 0))) throw new ConcurrencyError(first.key, base, head, { driver: 'level' });
      const batch = db.batch();
      const inFeed = counter && putOptions?.feed;
      if (!inFeed) {
        for (const { key, sequence, ...rest } of events) batch.put(eventKey(key, sequence), JSON.stringify(rest));
        batch.put(headKey(first.key), String(last.sequence));
        return batch.write();
      }
      // Numbered in the same synchronous step that marks it in flight: readers stop below it until it lands.
      const { hash, slice } = inFeed;
      const stamp = counter.next();
      try {
        for (const { key, sequence, ...rest } of events) batch.put(eventKey(key, sequence), JSON.stringify({ ...rest, p: feedPosition(stamp, hash, sequence) }));
        batch.put(headKey(first.key), String(last.sequence));
        batch.put(`x${feedPosition(stamp, hash, first.sequence)}`, JSON.stringify({ k: first.key, n: events.length, s: slice }));
        await batch.write();
      } finally {
        counter.landed(stamp);
      }
    });
  }

  /** Up to `limit` events with their feed positions, taken from the iterator in batches (which classic-level bounds in bytes) until the page's bytes are reached. */
  async function fetchRecords(key: string, afterSequence: number, limit: number, fetchOptions?: FetchOptions): Promise<FeedRecord[]> {
    const prefix = streamPrefix(key);
    const budget = pageBudget(fetchOptions?.maxBytes);
    const records: FeedRecord[] = [];
    const iterator = db.iterator({ gt: eventKey(key, afterSequence), lt: `${prefix}g`, limit });
    try {
      while (records.length < limit && !budget.full) {
        const entries = await iterator.nextv(limit - records.length);
        if (entries.length === 0) break;
        for (const [entryKey, value] of entries) {
          const { p: position = FEED_START, ...stored } = JSON.parse(value) as Omit<StoredEvent, 'key' | 'sequence'> & { p?: string };
          const event: StoredEvent = { key, sequence: parseInt(entryKey.slice(prefix.length), 16), ...stored };
          records.push({ event, position });
          // The stored text holds the event's JSON and more, and a UTF-16 unit is at most 3 UTF-8 bytes: an upper bound of its size.
          if (budget.add(event, value.length * 3)) break;
        }
      }
      return records;
    } finally {
      await iterator.close();
    }
  }

  async function fetchEvents(key: string, afterSequence: number, limit: number, fetchOptions?: FetchOptions): Promise<StoredEvent[]> {
    return (await fetchRecords(key, afterSequence, limit, fetchOptions)).map(({ event }) => event);
  }

  async function listKeys({ prefix = '', startAfter, limit }: ListKeysOptions): Promise<string[]> {
    const range = startAfter !== undefined && compareKeys(startAfter, prefix) >= 0 ? { gt: headKey(startAfter) } : { gte: headKey(prefix) };
    const keys: string[] = [];
    for await (const entryKey of db.keys({ ...range, lt: 't' })) {
      const key = entryKey.slice(1);
      if (!key.startsWith(prefix) || keys.length === limit) break;
      keys.push(key);
    }
    return keys;
  }

  const feed: DriverFeed = {
    kind: 'exact',
    read: whenOpen(readFeed),
    settledPosition: whenOpen(async () => (await feedCounterOf(db)).settledPosition()),
    fetchRecords: whenOpen((key: string, afterSequence: number, limit: number) => fetchRecords(key, afterSequence, limit)),
    loadCheckpoint: whenOpen(async (name: string) => {
      const row = await db.get(`c${name}`);
      return row === undefined ? undefined : { name, ...parseRow(row) };
    }),
    saveCheckpoint: whenOpen((name: string, value: string, version: number) =>
      runExclusive(`\u0000c${name}`, async () => {
        const row = await db.get(`c${name}`);
        if ((row === undefined ? 0 : parseRow(row).version) !== version - 1) return false;
        await db.put(`c${name}`, JSON.stringify({ v: version, value }));
        return true;
      }),
    ),
    listCheckpoints: whenOpen(async () =>
      (await db.iterator({ gte: 'c', lt: 'd' }).all()).map(([key, row]) => ({ name: key.slice(1), ...parseRow(row) })),
    ),
  };

  /** The feed's commits from the one holding `after` up to `upTo`, read event by event from their streams. */
  async function readFeed({ after, upTo, slices: [from, to], limit }: FeedReadOptions) {
    const records: FeedRecord[] = [];
    // A commit's key holds its first event's position: start at the first commit `after` may be inside.
    const start = after === FEED_START ? { gte: 'x' } : { gt: `x${commitPrefixOf(after)}` };
    for await (const [entryKey, value] of db.iterator({ ...start, lte: `x${upTo}` })) {
      // Every commit before this one was taken whole.
      if (records.length >= limit) return { records, reached: records[records.length - 1]!.position };
      const { k: key, n: count, s: slice } = JSON.parse(value) as { k: string; n: number; s: number };
      if (slice < from || slice > to) continue;
      const position = entryKey.slice(1);
      const first = sequenceOf(position);
      const inside = resumeInCommit(after, position);
      for (const event of await fetchEvents(key, inside, first + count - 1 - inside)) {
        const at = positionInCommit(position, event.sequence);
        if (at > after && at <= upTo) records.push({ event, position: at });
      }
    }
    return { records, reached: upTo };
  }

  return {
    name: 'level',
    ...(options.feed === false ? {} : { feed }),
    atomicPriorCheck: true,
    preferredPageSize: 1000,
    checkSequence: whenOpen((key: string, sequence: number) => db.has(eventKey(key, sequence))),
    lastSequence: whenOpen(lastSequence),
    fetchEvents: whenOpen(fetchEvents),
    putEvents: whenOpen(putEvents),
    listKeys: whenOpen(listKeys),
    close: () => (closing ??= owned ? db.close() : Promise.resolve()),
  };
}

const parseRow = (row: string) => {
  const { v, value } = JSON.parse(row) as { v: number; value: string };
  return { version: v, value };
};
