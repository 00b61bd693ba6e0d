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
   * `min(limit, remaining)` of them, so that a short page means the end of the stream.
   */
  fetchEvents(key: string, afterSequence: number, limit: number): Promise<StoredEvent[]>;

  /**
   * Write one commit: one or more events of one key with consecutive sequences. All or nothing: if any
   * (key, sequence) already exists, nothing is written and it throws `ConcurrencyError`. Other failures
   * throw (ideally a `DriverError` saying whether a retry may help); the core wraps anything else.
   */
  putEvents(events: readonly StoredEvent[], options?: PutEventsOptions): Promise<void>;

  /** Release connections and handles the driver created. Idempotent. */
  close(): Promise<void>;

  /** Keys that have at least one event, in ascending code point (UTF-8 byte) order. Enables `listStreams`. */
  listKeys?(options: ListKeysOptions): Promise<string[]>;

  /**
   * Reads as `fetchEvents` does, such that no write the backend has answered can land afterwards: what
   * it does not find at a failed commit's sequences is never stored (Cassandra: a read at SERIAL, which
   * completes or supersedes any Paxos round left in progress). The core reads a failed commit back with
   * it, and tells the caller the commit is not stored instead of that its outcome is unknown, unless an
   * attempt failed `inDoubt` (sent, reply lost: it may still be running on the backend).
   */
  fetchEventsFinal?(key: string, afterSequence: number, limit: number): Promise<StoredEvent[]>;

  /** The last sequence of `key` (0 if it has no events) in one read. Without it the core searches with `checkSequence`. */
  lastSequence?(key: string): Promise<number>;

  /** The backend's limits, checked by the core before any write. */
  readonly limits?: DriverLimits;

  /** `putEvents` honours `options.checkPrior` atomically, so an append at a caller's version is one round trip. */
  readonly atomicPriorCheck?: boolean;

  /** The page size that suits the backend for `fetchEvents`; the core uses it unless a read names its own. */
  readonly preferredPageSize?: number;
}
