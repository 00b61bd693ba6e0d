import type { FeedKey } from './feed-positions.js';
import type { StoredEvent } from './types.js';

/** Backend limits a driver declares; the core refuses input beyond them before anything is written. */
export interface DriverLimits {
  /** The most events one atomic commit may hold (e.g. 100 for a DynamoDB transaction). */
  maxEventsPerCommit?: number;
  /** The most bytes one event may take, counted as the UTF-8 JSON of its type, data and metadata. */
  maxEventBytes?: number;
  /** The most bytes one commit may take, counted the same way over all its events. */
  maxCommitBytes?: number;
}

export interface ListKeysOptions {
  /** Only keys that start with this string. */
  prefix?: string;
  /** Only keys after this one (exclusive), for paging. */
  startAfter?: string;
  /** The most keys to return. */
  limit: number;
}

export interface PutEventsOptions {
  /**
   * Set when the driver declares `atomicPriorCheck` and the commit does not start at sequence 1: the driver
   * must, in the same atomic operation, check that event `events[0].sequence - 1` exists, and throw
   * `ConcurrencyError` (writing nothing) if it does not.
   */
  checkPrior?: boolean;
  /**
   * Set when the driver has a `feed`: where the commit goes in the change feed, stamped afresh for each
   * attempt. A stamped driver stores `feedPosition(stamp, hash, sequence)` and `slice` with the commit, in
   * the same atomic write where it can, else in an index entry written before the commit; an exact driver
   * uses its own commit counter as the stamp.
   */
  feed?: { stamp: number } & FeedKey;
}

/** An event in the change feed, with its position (see `feedPosition`). */
export interface FeedRecord {
  event: StoredEvent;
  position: string;
}

export interface FeedReadOptions {
  /** Exclusive: only records after this position (`''` for the start). */
  after: string;
  /** Inclusive: only records at or below this position. */
  upTo: string;
  /** Only streams whose slice is in this range, both ends included. */
  slices: readonly [number, number];
  /**
   * About how many records to return. A driver may return more (whole commits, a page per partition
   * merged): the core cuts a page after its `limit`-th record, which then becomes how far it reached.
   */
  limit: number;
}

/** A consumer's checkpoint row: a JSON value the core writes, and the version that makes each write conditional. */
export interface CheckpointRow {
  name: string;
  value: string;
  version: number;
}

/**
 * The change feed: an index of committed events by position, written in the commit's own atomic write,
 * and the rows where consumers keep their checkpoints. Every rule of the feed (passes, gap repair,
 * dedup, checkpoints, leases) lives in the core.
 */
export interface DriverFeed {
  /**
   * `exact`: positions come from the driver's commit counter and `settledPosition` says how far every
   * commit has landed (memory, LevelDB). `stamped`: positions come from the writers' clocks, and an entry
   * may become visible late (index lag, slow commits, skewed clocks); the core reads behind the clock.
   */
  readonly kind: 'exact' | 'stamped';
  /**
   * The records in `(after, upTo]` of the slices, in position order, committed data only, up to about
   * `limit` of them (whole commits). `reached` says how far the answer is whole: every record in
   * `(after, reached]` is there (`upTo` when the range is exhausted), so the next page starts after it;
   * it must pass `after` whenever `upTo` does, even when a page held nothing for these slices. A driver
   * that writes its index entry before the commit (it cannot be in the same atomic write) returns only the
   * events of entries it verified against the stored events, skips the entries of commits that can no
   * longer land, and sets `complete` just below the first entry whose commit may still land.
   */
  read(options: FeedReadOptions): Promise<{ records: FeedRecord[]; reached: string; complete?: string }>;
  /** Exact drivers: the highest position below which every commit has landed or failed. */
  settledPosition?(): Promise<string>;
  /**
   * The events of `key` after `afterSequence`, as `fetchEvents` returns them, each with the position it
   * has in the feed, or `''` for an event that is not in the feed (written with the feed off, or before
   * the feed existed). The consumer reads a stream's last handled event from it, and repairs gaps with it.
   */
  fetchRecords(key: string, afterSequence: number, limit: number): Promise<FeedRecord[]>;
  /** Stamped drivers: moves the stored events of one commit to the given positions (a commit that landed late). */
  restamp?(events: readonly StoredEvent[], positions: readonly string[]): Promise<void>;
  /** The checkpoint row `name`, if any. */
  loadCheckpoint(name: string): Promise<CheckpointRow | undefined>;
  /**
   * Writes row `name` at `version`, only if it is now at `version - 1` (absent for 1), atomically.
   * @returns false, writing nothing, when it is not.
   */
  saveCheckpoint(name: string, value: string, version: number): Promise<boolean>;
  /** Every checkpoint row, in name order. */
  listCheckpoints(): Promise<CheckpointRow[]>;
}

/** How `fetchEvents` bounds a page besides its `limit`. */
export interface FetchOptions {
  /**
   * End the page once its events' sizes (`eventBytes`) reach this many bytes; it holds at least one
   * event, whatever its size. A driver that ignores it returns whole pages, which is correct, only unbounded.
   */
  maxBytes?: number;
}

/**
 * The contract between the keyvent core and a backend: four callbacks, plus optional capabilities that
 * the core detects. Every rule of the event store (expected versions, validation, paging, retries,
 * subscriptions) lives in the core; a driver only maps these calls onto its backend.
 *
 * @example
 * ```ts
 * const driver: KeyValueDriver = {
 *   name: 'my-store',
 *   checkSequence: async (key, sequence) => …,
 *   fetchEvents: async (key, afterSequence, limit) => …,
 *   putEvents: async (events) => …,
 *   close: async () => {},
 * };
 * const store = createStore(driver);
 * ```
 */
export interface KeyValueDriver {
  /** A short name used in error messages, e.g. `dynamodb`. */
  readonly name: string;

  /** Does event `sequence` of stream `key` exist? Must read committed data. */
  checkSequence(key: string, sequence: number): Promise<boolean>;

  /**
   * The events of `key` with sequence greater than `afterSequence`, in ascending order, and exactly
   * `min(limit, remaining)` of them, so that a short page means the end of the stream; with
   * `options.maxBytes`, fewer (at least one) once their sizes (`eventBytes`) reach that many bytes (count
   * them with `pageBudget`): the core, which asked for the bound, reads on after such a page.
   */
  fetchEvents(key: string, afterSequence: number, limit: number, options?: FetchOptions): Promise<StoredEvent[]>;

  /**
   * Write one commit: one or more events of one key with consecutive sequences. All or nothing: if any
   * (key, sequence) already exists, nothing is written and it throws `ConcurrencyError`. Other failures
   * throw (ideally a `DriverError` saying whether a retry may help); the core wraps anything else.
   */
  putEvents(events: readonly StoredEvent[], options?: PutEventsOptions): Promise<void>;

  /** Release connections and handles the driver created. Idempotent. */
  close(): Promise<void>;

  /**
   * Keys that have at least one event, in ascending code point (UTF-8 byte) order. Enables `listStreams`.
   * A key whose first commit failed is never listed.
   */
  listKeys?(options: ListKeysOptions): Promise<string[]>;

  /**
   * How long after its first commit is acknowledged a stream may take to be listed, where the listing
   * reads an index the backend updates after the commit (DynamoDB's global secondary index). Default 0:
   * listed as soon as the commit is acknowledged.
   */
  readonly listingDelayMs?: number;

  /**
   * Reads as `fetchEvents` does, such that no write the backend has answered can land afterwards: what
   * it does not find at a failed commit's sequences is never stored (Cassandra: a read at SERIAL, which
   * completes or supersedes any Paxos round left in progress). The core reads a failed commit back with
   * it, and tells the caller the commit is not stored instead of that its outcome is unknown, unless an
   * attempt failed `inDoubt` (sent, reply lost: it may still be running on the backend).
   */
  fetchEventsFinal?(key: string, afterSequence: number, limit: number, options?: FetchOptions): Promise<StoredEvent[]>;

  /** The last sequence of `key` (0 if it has no events) in one read. Without it the core searches with `checkSequence`. */
  lastSequence?(key: string): Promise<number>;

  /** The backend's limits, checked by the core before any write. */
  readonly limits?: DriverLimits;

  /** `putEvents` honours `options.checkPrior` atomically, so an append at a caller's version is one round trip. */
  readonly atomicPriorCheck?: boolean;

  /** The page size that suits the backend for `fetchEvents`; the core uses it unless a read names its own. */
  readonly preferredPageSize?: number;

  /** The change feed. Enables `readAll` and `createConsumer`. */
  readonly feed?: DriverFeed;
}
