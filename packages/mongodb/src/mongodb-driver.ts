import { MongoClient, type Collection, type MongoClientOptions, type ReadPreferenceLike, type WriteConcernSettings } from 'mongodb';
import {
  commitPrefixOf,
  compareKeys,
  ConcurrencyError,
  FEED_START,
  type DriverFeed,
  type FeedReadOptions,
  type KeyValueDriver,
  pageBudget,
  type FetchOptions,
  layoutCheck,
  type ListKeysOptions,
  type PutEventsOptions,
  runBackendRequest,
  type StoredEvent,
} from '@keyvent/core';
import { fromDocument, orderKey, recordsOf, toDocument, type CommitDocument } from './documents.js';
import { LAYOUT_VERSION, readLayout } from './indexes.js';

/** A consumer's checkpoint row, in the collection `<collection>.feed`. */
interface CheckpointDocument {
  _id: string;
  v: number;
  value: string;
}

export type MongoDbDriverOptions = {
  database: string;
  /** Default `events`. */
  collection?: string;
  /** Default `{ w: 'majority', journal: true }`: an acknowledged commit survives a failover and a crash. */
  writeConcern?: WriteConcernSettings;
  /** Default `'primary'`: a secondary may lag, and the sequence checks must read committed data. */
  readPreference?: ReadPreferenceLike;
  /** Keep the change feed (its index and checkpoint rows). Default true; false writes no index (for stores that need no feed, and to measure its cost). */
  feed?: boolean;
} & (
  | { /** Your own client; the driver never closes it. */ client: MongoClient }
  | { /** A connection string for a client the driver creates and closes. */ uri: string; clientOptions?: MongoClientOptions }
);

const NAME = 'mongodb';
type Decode<T> = (commit: CommitDocument, after: number, last: number) => T[];
const DUPLICATE_KEY = 11000;
/** Labels the driver puts on errors worth another try. */
const RETRYABLE_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'ResetPool'];
/**
 * A lost connection or no reachable server: worth another try. A commit whose connection broke may
 * have landed; the core resends the same event ids, and the unique (k, f) index plus the ids tell.
 */
const TRANSIENT_NAMES = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongoPoolClearedError']);

/**
 * A driver on MongoDB, with no replica set or transactions needed: one document per commit, so a
 * commit is one atomic insert, and unique indexes refuse a commit whose sequences exist. A caller's
 * version is checked by a read first (two round trips; see `putEvents`); a version this store read
 * itself needs only the insert.
 *
 * @example
 * ```ts
 * const client = new MongoClient('mongodb://localhost:27017');
 * await createMongoDbIndexes(client.db('app').collection('events'));
 * const store = createStore(createMongoDbDriver({ client, database: 'app' }));
 * ```
 */
export function createMongoDbDriver(options: MongoDbDriverOptions): KeyValueDriver {
  const owned = !('client' in options);
  const client = 'client' in options ? options.client : new MongoClient(options.uri, options.clientOptions);
  const name = options.collection ?? 'events';
  const settings = {
    // An acknowledged commit must survive a failover and a crash, and reads must see it.
    writeConcern: options.writeConcern ?? { w: 'majority', journal: true },
    readPreference: options.readPreference ?? 'primary',
  };
  const database = client.db(options.database);
  const commits: Collection<CommitDocument> = database.collection(name, settings);
  // The feed reads only what a majority holds: a write a failover rolls back must never reach a consumer.
  const feedView: Collection<CommitDocument> = database.collection(name, { ...settings, readConcern: { level: 'majority' } });
  const checkpoints: Collection<CheckpointDocument> = database.collection(`${name}.feed`, settings);

  /**
   * With `checkPrior`, a commit must end exactly where this one starts. Commits are contiguous and never
   * deleted, so that stays true until the insert, and a stale writer at that boundary collides on the
   * unique (k, f) with the commit already there: the check and the insert are safe together.
   */
  const checkLayout = layoutCheck(NAME, LAYOUT_VERSION, name, () => run('a read', () => readLayout(commits)));

  async function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    await checkLayout();
    const first = events[0]!;
    const conflict = (cause?: unknown) => new ConcurrencyError(first.key, first.sequence - 1, undefined, { cause, driver: NAME });
    if (putOptions?.checkPrior) {
      const prior = await run('a read', () => commits.findOne({ k: first.key, l: first.sequence - 1 }, { projection: { _id: 1 } }));
      if (prior === null) throw conflict();
    }
    try {
      await run('the commit', () => commits.insertOne(toDocument(events, putOptions?.feed)));
    } catch (error) {
      throw (error as { code?: number }).code === DUPLICATE_KEY ? conflict(error) : error;
    }
  }

  function fetchEvents(key: string, afterSequence: number, limit: number, options?: FetchOptions): Promise<StoredEvent[]> {
    const budget = pageBudget(options?.maxBytes);
    return fetchPage(key, afterSequence, limit, fromDocument, commits, (event) => budget.add(event));
  }

  /**
   * A stream's events after a sequence, decoded by `decode`. Only the commits that overlap the page: without
   * the bound on `f`, every later commit of the stream would come back in the first batch, to be thrown
   * away (measured: loads ran at 0.22x the raw client).
   */
  async function fetchPage<T>(key: string, afterSequence: number, limit: number, decode: Decode<T>, from: Collection<CommitDocument>, full?: (item: T) => boolean): Promise<T[]> {
    const page: T[] = [];
    const last = afterSequence + limit;
    const cursor = from.find({ k: key, l: { $gt: afterSequence }, f: { $lte: last } }).sort({ l: 1 }).batchSize(Math.min(limit, 1000));
    // The cursor's batches are requests too: a connection lost between them is worth another try.
    return run('a read', async () => {
      try {
        for await (const commit of cursor) {
          // Decode only the events of the page, not the whole commit.
          let ended = false;
          for (const item of decode(commit, afterSequence, last)) {
            if (page.length === limit || ended) break;
            page.push(item);
            ended = full?.(item) ?? false;
          }
          // Bounded in bytes too: the server's batches stop at 16 MiB, and the page at the driver's bound.
          if (page.length === limit || ended) break;
        }
      } finally {
        await cursor.close();
      }
      return page;
    });
  }

  async function lastSequence(key: string): Promise<number> {
    const last = await run('a read', () => commits.findOne({ k: key }, { sort: { l: -1 }, projection: { l: 1 } }));
    return last?.l ?? 0;
  }

  async function checkSequence(key: string, sequence: number): Promise<boolean> {
    return (await run('a read', () => commits.findOne({ k: key, s: sequence }, { projection: { _id: 1 } }))) !== null;
  }

  /** Reads the streams' first commits (f = 1) in the order of their hex keys, which is code point order. */
  async function listKeys({ prefix = '', startAfter, limit }: ListKeysOptions): Promise<string[]> {
    await checkLayout();
    const hexPrefix = orderKey(prefix);
    const range: { $gt?: string; $gte?: string; $lt?: string } =
      startAfter !== undefined && compareKeys(startAfter, prefix) >= 0 ? { $gt: orderKey(startAfter) } : { $gte: hexPrefix };
    // Every key under the prefix has a hex key that starts with the prefix's and goes on with a digit, below `g`.
    if (prefix) range.$lt = `${hexPrefix}g`;
    const firsts = await run('listing', () => commits.find({ f: 1, o: range }, { projection: { k: 1, o: 1 } }).sort({ o: 1 }).limit(limit).toArray());
    return firsts.map((commit) => commit.k);
  }

  const feed: DriverFeed = {
    kind: 'stamped',
    async read({ after, upTo, slices: [from, to], limit }: FeedReadOptions) {
      // A commit's `fx` is its first event's position: start at the first commit `after` may be inside.
      const filter = { fx: { $gt: after === FEED_START ? '' : commitPrefixOf(after), $lte: upTo }, sl: { $gte: from, $lte: to } };
      // One more than asked: the commit holding `after` comes back too, and must not take the page's only slot.
      const found = await run('a feed read', () => feedView.find(filter).sort({ fx: 1 }).limit(limit + 1).toArray());
      const records = found.flatMap((commit) => recordsOf(commit));
      // Whole commits: the answer is whole up to the last event of the last one.
      return { records, reached: found.length <= limit ? upTo : records[records.length - 1]!.position };
    },
    fetchRecords: (key, afterSequence, limit) => fetchPage(key, afterSequence, limit, recordsOf, feedView),
    async restamp(events, positions) {
      const first = events[0]!;
      await run('a restamp', () => commits.updateOne({ k: first.key, f: first.sequence, 'e.0.i': first.id }, { $set: { fx: positions[0]! } }));
    },
    async loadCheckpoint(id) {
      const row = await run('a read', () => checkpoints.findOne({ _id: id }));
      return row ? { name: row._id, value: row.value, version: row.v } : undefined;
    },
    async saveCheckpoint(id, value, version) {
      if (version === 1) {
        try {
          await run('a checkpoint', () => checkpoints.insertOne({ _id: id, v: 1, value }));
          return true;
        } catch (error) {
          if ((error as { code?: number }).code === DUPLICATE_KEY) return false;
          throw error;
        }
      }
      const result = await run('a checkpoint', () => checkpoints.updateOne({ _id: id, v: version - 1 }, { $set: { v: version, value } }));
      return result.matchedCount === 1;
    },
    async listCheckpoints() {
      const rows = await run('a read', () => checkpoints.find({}).sort({ _id: 1 }).toArray());
      return rows.map((row) => ({ name: row._id, value: row.value, version: row.v }));
    },
  };

  let closing: Promise<void> | undefined;
  return {
    name: NAME,
    ...(options.feed === false ? {} : { feed }),
    atomicPriorCheck: true,
    // Each query may cost a collection scan on some MongoDB-protocol servers: few, large pages (documents hold whole commits).
    preferredPageSize: 10_000,
    // A document is at most 16 MiB of BSON; the JSON text of the events plus the envelope stays under.
    limits: { maxEventsPerCommit: 1000, maxEventBytes: 8 * 1024 * 1024, maxCommitBytes: 12 * 1024 * 1024 },
    checkSequence,
    fetchEvents,
    putEvents,
    lastSequence,
    listKeys,
    close: () => (closing ??= owned ? client.close() : Promise.resolve()),
  };
}

/** Runs a request; an error the MongoDB driver labels as retryable becomes a retryable DriverError. */
function run<T>(what: string, request: () => Promise<T>): Promise<T> {
  return runBackendRequest(NAME, what, request, (error) => {
    const labels = (error as { errorLabels?: Set<string> | string[] }).errorLabels;
    const labelled = labels ? [...labels].some((label) => RETRYABLE_LABELS.includes(label)) : false;
    return labelled || TRANSIENT_NAMES.has((error as Error).name);
  });
}
