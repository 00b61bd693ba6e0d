import { types, type Client, type QueryOptions } from 'cassandra-driver';
import {
  commitPrefixOf,
  compareKeys,
  FEED_START,
  feedKeyOf,
  positionAtStamp,
  positionInCommit,
  sequenceOf,
  stampOf,
  DriverError,
  type CheckpointRow,
  type DriverFeed,
  type FeedReadOptions,
  type FeedRecord,
  type PutEventsOptions,
  type StoredEvent,
} from '@keyvent/core';

/** A feed partition is a slice's top 4 bits (16 partitions), a bucket one hour of stamps: a partition holds 1/16 of an hour's commits. */
export const feedPartitionOf = (slice: number): number => slice >> 6;
const HOUR_MICROS = 3_600_000_000;
const VERIFY_CONCURRENCY = 32;
export const bucketOf = (stamp: number): number => Math.floor(stamp / HOUR_MICROS);
/** The checkpoint table's row holding the first bucket of the feed (no consumer row name lacks a `#`). */
export const FEED_START_ROW = 'feed-start';

interface Entry {
  position: string;
  key: string;
  count: number;
  id: string;
}

export interface CassandraFeedOptions {
  client: Client;
  eventsTable: string;
  feedTable: string;
  checkpointTable: string;
  read: QueryOptions;
  write: QueryOptions;
  /** The events at a stream's sequences, with their stored positions, at the given consistency. */
  fetchRecords: (key: string, afterSequence: number, limit: number, consistency?: types.consistencies) => Promise<FeedRecord[]>;
  run: <T>(what: string, request: () => Promise<T>) => Promise<T>;
  /** How long after its stamp an entry whose commit is not found is settled by a read at SERIAL. */
  pendingTimeoutMs: number;
  serial: types.consistencies;
}

/**
 * The change feed on Cassandra. A commit's conditional batch must stay in the stream's partition, so its
 * index entry cannot join it: each attempt writes an entry (at QUORUM) before sending the batch, and the
 * batch stores the attempt's positions on the event rows. An entry is only a claim: a reader delivers its
 * events only if the rows at its sequences hold its first id and its position (the attempt that landed);
 * rows of another commit or attempt make it dead; no rows make it pending until `pendingTimeoutMs` after
 * its stamp, when a read at SERIAL (which completes or supersedes any Paxos round left in progress)
 * settles it for good.
 */
export function createCassandraFeed(options: CassandraFeedOptions): DriverFeed & { writeEntry(events: readonly StoredEvent[], feed: NonNullable<PutEventsOptions['feed']>, position: string): Promise<void> } {
  const { client, feedTable, checkpointTable, run } = options;
  let startBucket: Promise<number> | undefined;

  async function writeEntry(events: readonly StoredEvent[], feed: NonNullable<PutEventsOptions['feed']>, position: string) {
    const first = events[0]!;
    await run('a feed entry', () =>
      client.execute(
        `INSERT INTO ${feedTable} (fp, bucket, fx, k, n, sl, i) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [feedPartitionOf(feed.slice), bucketOf(feed.stamp), position, first.key, events.length, feed.slice, first.id],
        options.write,
      ),
    );
  }

  /** The first bucket with entries: the schema records when the feed began. */
  function firstBucket(): Promise<number> {
    startBucket ??= run('a read', () => client.execute(`SELECT value FROM ${checkpointTable} WHERE name = ?`, [FEED_START_ROW], options.read))
      .then((result) => {
        const value = result.first()?.get('value') as string | undefined;
        if (value === undefined) {
          throw new DriverError('cassandra', `${checkpointTable} has no ${FEED_START_ROW} row: run createCassandraSchema to make the feed's tables`);
        }
        return Number(value);
      })
      .catch((error: unknown) => {
        startBucket = undefined;
        throw error;
      });
    return startBucket;
  }

  /**
   * One bucket's entries in `(after's commit, upTo]`, all partitions merged, and how far that answer is
   * whole: to the lowest last entry of a partition cut at `limit` (the slice filter applies after the
   * LIMIT), else to the end of the bucket or `upTo`.
   */
  async function readBucket(bucket: number, partitions: number[], lower: string, upTo: string, [from, to]: readonly [number, number], limit: number) {
    const end = positionAtStamp((bucket + 1) * HOUR_MICROS - 1);
    let bound = end < upTo ? end : upTo;
    const pages = await Promise.all(
      partitions.map((partition) =>
        run('a feed read', () =>
          client.execute(`SELECT fx, k, n, sl, i FROM ${feedTable} WHERE fp = ? AND bucket = ? AND fx > ? AND fx <= ? LIMIT ?`, [partition, bucket, lower, upTo, limit], {
            ...options.read,
            fetchSize: limit,
          }),
        ),
      ),
    );
    for (const page of pages) {
      if (page.rowLength === limit) {
        const last = page.rows[page.rowLength - 1]!.get('fx') as string;
        if (last < bound) bound = last;
      }
    }
    const entries: Entry[] = pages
      .flatMap((page) => page.rows)
      .filter((row) => (row.get('sl') as number) >= from && (row.get('sl') as number) <= to && (row.get('fx') as string) <= bound)
      .map((row) => ({ position: row.get('fx') as string, key: row.get('k') as string, count: row.get('n') as number, id: row.get('i') as string }))
      .sort((a, b) => (a.position < b.position ? -1 : 1));
    // At most `limit` entries a page, whatever the number of partitions: each costs a read to verify.
    if (entries.length > limit) {
      entries.length = limit;
      bound = entries[limit - 1]!.position;
    }
    return { entries, bound };
  }

  /**
   * What an entry stands for: the events of the attempt that landed (delivered), nothing (`dead`: its
   * sequences hold another commit or another attempt's copy, or nothing past the pending timeout at
   * SERIAL), or `pending` (nothing there yet, and the attempt may still land).
   */
  async function verify(entry: Entry): Promise<FeedRecord[] | 'dead' | 'pending'> {
    const first = sequenceOf(entry.position);
    const matches = (records: FeedRecord[]) => records.length === entry.count && records[0]!.event.id === entry.id && records[0]!.position === entry.position;
    const found = await options.fetchRecords(entry.key, first - 1, entry.count);
    if (found.length > 0) return matches(found) ? found : 'dead';
    if (stampOf(entry.position) + options.pendingTimeoutMs * 1000 > Date.now() * 1000) return 'pending';
    const final = await options.fetchRecords(entry.key, first - 1, entry.count, options.serial);
    return final.length > 0 && matches(final) ? final : 'dead';
  }

  /**
   * The verified records in `(after, upTo]`, bucket by bucket; dead entries are passed over, pending ones
   * set `complete` just below the first of them (the records after it are returned all the same: the
   * consumer's live pass goes on while its settled position waits).
   */
  async function read({ after, upTo, slices, limit }: FeedReadOptions) {
    const partitions = Array.from({ length: feedPartitionOf(slices[1]) - feedPartitionOf(slices[0]) + 1 }, (_, i) => feedPartitionOf(slices[0]) + i);
    // The commit holding `after` comes back too: one more than asked, so that it never takes the only slot.
    const lower = after === FEED_START ? '' : commitPrefixOf(after);
    const records: FeedRecord[] = [];
    let complete: string | undefined;
    const last = bucketOf(stampOf(upTo));
    for (let bucket = after === FEED_START ? await firstBucket() : bucketOf(stampOf(after)); bucket <= last; bucket++) {
      const page = await readBucket(bucket, partitions, lower, upTo, slices, limit + 1);
      const verdicts: Awaited<ReturnType<typeof verify>>[] = [];
      // A bounded number of reads at a time: a connection takes at most 2,048 requests in flight.
      for (let at = 0; at < page.entries.length; at += VERIFY_CONCURRENCY) {
        verdicts.push(...(await Promise.all(page.entries.slice(at, at + VERIFY_CONCURRENCY).map(verify))));
      }
      page.entries.forEach((entry, i) => {
        const verdict = verdicts[i]!;
        if (verdict === 'pending') complete ??= positionInCommit(entry.position, sequenceOf(entry.position) - 1);
        else if (verdict !== 'dead') records.push(...verdict.filter((record) => record.position > after));
      });
      // Whole up to the page's bound: a cut partition, or this bucket's end once enough records are in.
      if (page.bound < upTo && (page.bound < positionAtStamp((bucket + 1) * HOUR_MICROS - 1) || records.length >= limit)) {
        return { records, reached: page.bound, complete };
      }
    }
    return { records, reached: upTo, complete };
  }

  return {
    kind: 'stamped',
    read,
    writeEntry,
    fetchRecords: (key, afterSequence, limit) => options.fetchRecords(key, afterSequence, limit),
    async restamp(events, positions) {
      // The new entry first, then the rows' positions, conditional on the ids like the commit's own writes:
      // the old entry no longer matches the rows, so it is dead, and the new one delivers the commit.
      const { slice, hash } = feedKeyOf(events[0]!.key);
      await writeEntry(events, { stamp: stampOf(positions[0]!), slice, hash }, positions[0]!);
      const queries = events.map((event, i) => ({ query: `UPDATE ${options.eventsTable} SET fx = ? WHERE key = ? AND seq = ? IF id = ?`, params: [positions[i]!, event.key, event.sequence, event.id] }));
      await run('a restamp', () => client.batch(queries, options.write));
    },
    async loadCheckpoint(name) {
      const row = (await run('a read', () => client.execute(`SELECT v, value FROM ${checkpointTable} WHERE name = ?`, [name], options.read))).first();
      return row ? { name, value: row.get('value') as string, version: (row.get('v') as types.Long).toNumber() } : undefined;
    },
    async saveCheckpoint(name, value, version) {
      const result = await run('a checkpoint', () =>
        version === 1
          ? client.execute(`INSERT INTO ${checkpointTable} (name, v, value) VALUES (?, ?, ?) IF NOT EXISTS`, [name, version, value], options.write)
          : client.execute(`UPDATE ${checkpointTable} SET v = ?, value = ? WHERE name = ? IF v = ?`, [version, value, name, version - 1], options.write),
      );
      return result.wasApplied();
    },
    async listCheckpoints() {
      const rows: CheckpointRow[] = [];
      const result = await run('a read', () => client.execute(`SELECT name, v, value FROM ${checkpointTable}`, [], { ...options.read, fetchSize: 1000 }));
      for await (const row of result) {
        const name = row.get('name') as string;
        // Consumers' rows are `<name>#<slices>`; the others (feed-start, layout) are the store's own.
        if (name.includes('#')) rows.push({ name, value: row.get('value') as string, version: (row.get('v') as types.Long).toNumber() });
      }
      return rows.sort((a, b) => compareKeys(a.name, b.name));
    },
  };
}
