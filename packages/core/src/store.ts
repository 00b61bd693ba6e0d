import { randomUUID } from 'node:crypto';
import type { DriverLimits, KeyValueDriver, ListKeysOptions, PutEventsOptions } from './driver.js';
import { createDriverGate, type RetryOptions } from './driver-calls.js';
import { ConcurrencyError, DriverError, isConcurrencyError, isDriverError, NotSupportedError, StoreClosedError, ValidationError } from './errors.js';
import { assertStreamKey, isInternalStream, prefixEnd, SNAPSHOT_STREAM_PREFIXES } from './keys.js';
import { endedByBytes, fetchRange, READ_PAGE_BYTES } from './pages.js';
import { createFeedAccess, feedAccess, type FeedAccess, type FeedEvent, type FeedOptions, type ReadAllOptions } from './feed.js';
import { createPublisher, type EventHandler, type SubscribeOptions } from './subscriptions.js';
import type { ExpectedVersion, NewEvent, StoredEvent } from './types.js';
import { assertCommit, assertEvent, assertExpectedVersion, assertSequence, assertUniqueId } from './validation.js';

export interface StoreOptions {
  /** Events per driver read when a read names no page size. Default: the driver's preference, else 500. */
  pageSize?: number;
  /** How many times an `'any'` or `'exists'` append re-reads the head and tries again after losing a race. Default 10. */
  maxAppendRetries?: number;
  /** Retries of driver calls that fail with a retryable DriverError. */
  retry?: RetryOptions;
  /**
   * How long `close` waits, once the calls in flight have finished, for consumers to finish their batch
   * and for subscribers to take what was published, both together; a subscriber still busy then is dropped
   * and told what it missed (`onDropped`), a consumer still in its handler is abandoned and told through
   * its `onError` (its batch is delivered again after its lease). Default 10,000.
   */
  closeTimeoutMs?: number;
  /** The change feed's timings, where the driver has a feed. */
  feed?: FeedOptions;
  /**
   * The bytes at which a driver read ends its page (it holds at least one event), so that a page is
   * bounded in bytes as well as in events; the store reads on after it. Default 4 MiB.
   */
  readPageBytes?: number;
}

export interface AppendOptions {
  /** What the caller believes the stream's version to be. Default `'any'`. */
  expectedVersion?: ExpectedVersion;
}

export interface AppendResult {
  key: string;
  /** The stream's version after this commit: the sequence of its last event. */
  version: number;
  /** The events as stored, with their sequences, ids and timestamp. */
  events: StoredEvent[];
}

export interface ReadOptions {
  /** The first sequence to yield (inclusive). Forward default 1; backward default the head. */
  from?: number;
  /** The last sequence to yield (inclusive). Forward default the head; backward default 1. */
  to?: number;
  direction?: 'forward' | 'backward';
  /** Events per driver read. */
  pageSize?: number;
}

export interface ListStreamsOptions {
  prefix?: string;
  /** Exclusive: pass the last key of the previous page. */
  startAfter?: string;
  /** Default 1,000; at most 10,000. */
  limit?: number;
}

/** An event store over one driver. Create it with {@link createStore}. */
export interface EventStore {
  /** The driver's name, e.g. `level`. */
  readonly driverName: string;
  /** The backend's limits, as the driver declares them (e.g. events per atomic commit). */
  readonly limits: DriverLimits;
  /**
   * Appends one commit (one event or several) to stream `key`, atomically.
   * @throws ConcurrencyError when the stream is not at `expectedVersion`; ValidationError for bad input.
   */
  append(key: string, events: NewEvent | readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Writes events copied from another store with their sequences, ids, timestamps and metadata (for
   * `keyvent copy` and migrations). They must be one stream's, consecutive, and start right after the
   * stream's current version. They are written as one commit per run of equal timestamps (how the
   * source committed them), split further at the driver's limits; every commit is checked before the
   * first is written, and each is atomic.
   * @returns the stream's version after the import.
   * @throws ConcurrencyError when the stream is not at `events[0].sequence - 1`; ValidationError for bad input.
   */
  importEvents(key: string, events: readonly StoredEvent[]): Promise<number>;
  /** The events of a stream, paged through the driver so a long stream never sits in memory at once. */
  readStream(key: string, options?: ReadOptions): AsyncIterable<StoredEvent>;
  /** The stream's version: its last sequence, 0 if it has no events. */
  streamVersion(key: string): Promise<number>;
  /** Stream keys in code point order. @throws NotSupportedError if the driver cannot list. */
  listStreams(options?: ListStreamsOptions): Promise<string[]>;
  /**
   * Calls `handler` with every event committed through this store, in commit order per stream, through
   * a bounded queue (`maxBacklog`). Returns an unsubscribe function. @throws StoreClosedError after close.
   */
  subscribe(handler: EventHandler, options?: SubscribeOptions): () => void;
  /**
   * Refuses new calls (StoreClosedError), lets the calls in flight finish, gives subscribers what was
   * committed (at most `closeTimeoutMs`), then closes the driver. Nothing is published after it resolves. Idempotent.
   */
  close(): Promise<void>;
  /**
   * Every committed event of the store (or of a slice range), in feed position order, from after
   * `options.after` up to the settled line: the raw change feed, finite, without checkpoints. Within a
   * stream, order holds only where its writers' clocks agree, and an event may appear twice if its commit
   * was re-stamped; use `createConsumer` to follow the feed with those repaired.
   * @throws NotSupportedError if the driver has no feed.
   */
  readAll(options?: ReadAllOptions): AsyncIterable<FeedEvent>;
  /** @internal The change feed's reader, for consumers. */
  readonly [feedAccess]: FeedAccess;
  /** @internal Appends at a version this store itself read (so no prior check is needed). For repositories. */
  readonly [appendAtReadVersion]: (key: string, events: readonly NewEvent[], version: number) => Promise<AppendResult>;
}

/** @internal */
export const appendAtReadVersion: unique symbol = Symbol('keyvent.appendAtReadVersion');

const DEFAULT_PAGE_SIZE = 500;
/** How many keys a listing asks for at once while it reads past keyvent's own streams. */
const INTERNAL_SKIP_PAGE = 1_000;
const MAX_LIST_LIMIT = 10_000;

/**
 * Creates an event store over a driver.
 *
 * @example
 * ```ts
 * const store = createStore(createMemoryDriver());
 * await store.append('cart-42', { type: 'ItemAdded', data: { sku: 'A1' } }, { expectedVersion: 'no_stream' });
 * for await (const event of store.readStream('cart-42')) console.log(event.sequence, event.type);
 * ```
 */
export function createStore(driver: KeyValueDriver, options: StoreOptions = {}): EventStore {
  const gate = createDriverGate(driver, options.retry);
  const publisher = createPublisher();
  const defaultPageSize = options.pageSize ?? driver.preferredPageSize ?? DEFAULT_PAGE_SIZE;
  const maxRetries = options.maxAppendRetries ?? 10;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const feed = createFeedAccess(driver, gate, options.feed);
  const maxBytes = options.readPageBytes ?? READ_PAGE_BYTES;
  const bounded = { maxBytes };
  assertSequence(maxBytes, 'options.readPageBytes');
  assertSequence(closeTimeoutMs, 'options.closeTimeoutMs');
  assertSequence(defaultPageSize, 'options.pageSize');

  /**
   * The caller's ConcurrencyError, with the version that made the commit fail: the driver's where it saw
   * one, else a read of the head. `found` (the events at the commit's sequences) says which way it
   * failed: past `base` if they exist, short of it (a missing prior event) if not; a head read later
   * that contradicts this saw a commit that came after the failure, so it is not reported.
   */
  async function conflict(key: string, expected: ExpectedVersion, base: number, cause?: unknown, found: readonly string[] = []) {
    let actual = isConcurrencyError(cause) ? cause.actualVersion : undefined;
    if (actual === undefined) {
      const head = await gate.lastSequence(key).catch(() => undefined);
      if (head !== undefined && (found.length > 0 ? head > base : head < base)) actual = head;
    }
    return new ConcurrencyError(key, expected, actual, { cause, driver: driver.name });
  }

  /** Writes `events` after sequence `base`; `checkPrior` when the caller, not this store, vouched for `base`. */
  function commitAt(key: string, events: readonly Prepared[], base: number, expected: ExpectedVersion, checkPrior: boolean) {
    if (base + events.length > Number.MAX_SAFE_INTEGER) {
      throw new ValidationError('expectedVersion', 'the commit would pass sequence 2^53 - 1');
    }
    const timestamp = new Date().toISOString();
    const stored = events.map((event, i): StoredEvent => ({ key, sequence: base + i + 1, timestamp, ...event }));
    return commitStored(key, stored, base, expected, checkPrior);
  }

  function commitStored(key: string, stored: StoredEvent[], base: number, expected: ExpectedVersion, checkPrior: boolean) {
    return publisher.track(key, base, async () => {
      if (checkPrior && !driver.atomicPriorCheck) {
        const priorExists = await gate.call('checkSequence', () => driver.checkSequence(key, base));
        if (!priorExists) throw await conflict(key, expected, base);
      }
      await putSettled(stored, checkPrior && driver.atomicPriorCheck ? { checkPrior: true } : undefined, expected);
      return { key, version: base + stored.length, events: stored };
    });
  }

  /**
   * Puts a commit and settles every doubtful outcome by the events stored at its sequences. The backend
   * SDKs resend requests by themselves, so a put can fail (a conflict, a lost reply, a timeout) although
   * a copy of it landed; a retry resends the same events, so a copy that landed late shows as ours too.
   */
  async function putSettled(stored: StoredEvent[], prior: PutEventsOptions | undefined, expected: ExpectedVersion) {
    const first = stored[0]!;
    // Each attempt is stamped afresh (a driver that writes its feed entry before the commit writes one per
    // attempt); whether the commit came late is judged from the first stamp, the earliest it may carry.
    let stamped: ReturnType<typeof feed.stamp>;
    const optionsOf = () => {
      const stamp = feed.stamp(first.key);
      stamped ??= stamp;
      return stamp ? { ...prior, feed: stamp } : prior;
    };
    const base = first.sequence - 1;
    const atSequences = () => fetchRange((after, limit) => driver.fetchEvents(first.key, after, limit, bounded), base, stored.length, maxBytes);
    let found: readonly string[] | undefined;
    // An attempt whose reply was lost may still be running on the backend: then no read can be final.
    let inDoubt = false;
    try {
      await gate.call('putEvents', async () => {
        try {
          await driver.putEvents(stored, optionsOf());
        } catch (error) {
          if (isDriverError(error) && error.inDoubt) inDoubt = true;
          if (!isConcurrencyError(error)) throw error;
          // Ids the driver returned rule the commit out at no cost; a match is confirmed on the events.
          found = error.storedIds;
          if (found !== undefined && !sameIds(found, stored)) throw error;
          const events = await atSequences();
          found = idsOf(events);
          if (!isSameCommit(events, stored)) throw error;
        }
      });
    } catch (error) {
      if (isConcurrencyError(error)) throw await conflict(first.key, expected, base, error, found);
      if (!isDriverError(error)) throw error;
      const { events, final, finalFailure } = await readBack(first, stored.length, error);
      // Stored after all (its reply was lost): it may have landed late, like an acknowledged one.
      if (isSameCommit(events, stored)) return void (stamped && (await feed.restampIfLate(stored, stamped)));
      if (events.length > 0) throw await conflict(first.key, expected, base, error, idsOf(events));
      // A retryable failure may be a timeout whose request still lands: not stored yet is not refused,
      // unless the driver's final read says that no attempt can land any more.
      if (error.retryable && (!final || inDoubt)) {
        const read = finalFailure ? `a plain read (the final read failed: ${finalFailure})` : final ? 'a final read' : 'a read';
        const why = inDoubt ? 'an attempt whose reply was lost may still be running on the backend' : 'an attempt may still land';
        throw outcomeUnknown(first, error, `${read} did not find it at its sequences, but ${why}`);
      }
      if (error.retryable) throw notStored(first, error);
      throw error;
    }
    if (stamped) await feed.restampIfLate(stored, stamped);
  }

  /**
   * The events at a failed commit's sequences: by the driver's final read where it has one, else (or if
   * that fails) by a plain read, which settles a commit it finds but not one it does not. If neither
   * read answers, the caller is told the outcome is unknown.
   */
  async function readBack(first: StoredEvent, count: number, failure: DriverError) {
    const read = (name: 'fetchEvents' | 'fetchEventsFinal') =>
      fetchRange((after, limit) => gate.call(name, () => driver[name]!(first.key, after, limit, bounded), true), first.sequence - 1, count, maxBytes);
    let finalFailure: string | undefined;
    if (driver.fetchEventsFinal) {
      try {
        return { events: await read('fetchEventsFinal'), final: true };
      } catch (error) {
        finalFailure = messageOf(error);
      }
    }
    try {
      return { events: await read('fetchEvents'), final: false, finalFailure };
    } catch (readError) {
      throw outcomeUnknown(first, failure, `it could not be read back (${finalFailure ?? messageOf(readError)})`);
    }
  }

  /** The commit failed and is not stored: a final read found nothing, and nothing can land any more. */
  const notStored = (first: StoredEvent, failure: DriverError) =>
    commitFailed(first, failure, 'is not stored: a final read found nothing at its sequences, and no attempt can land any more; it may be appended again', true);

  /** The commit failed and may or may not be stored (`why`): the caller must read the stream. */
  const outcomeUnknown = (first: StoredEvent, failure: DriverError, why: string) =>
    commitFailed(first, failure, `${why}: whether it is stored is unknown; read the stream before appending it again`, false);

  function commitFailed(first: StoredEvent, failure: DriverError, outcome: string, retryable: boolean): DriverError {
    const commit = `the commit to stream ${JSON.stringify(first.key)} at sequence ${first.sequence}`;
    return new DriverError(driver.name, `${commit} failed (${messageOf(failure)}) and ${outcome}`, { cause: failure, retryable });
  }

  async function appendAfterHead(key: string, events: readonly Prepared[], expected: 'any' | 'exists') {
    for (let attempt = 0; ; attempt++) {
      const head = await gate.lastSequence(key);
      if (expected === 'exists' && head === 0) throw new ConcurrencyError(key, expected, 0, { driver: driver.name });
      // A conflict here is another writer's commit (putSettled checked the ids): read the head again.
      try {
        return await commitAt(key, events, head, expected, false);
      } catch (error) {
        if (!isConcurrencyError(error) || attempt >= maxRetries) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  }

  /** Checks (throwing, which the span's callback in `tracedAppend` turns into a rejection), then commits. */
  function append(key: string, input: NewEvent | readonly NewEvent[], appendOptions: AppendOptions = {}) {
    assertStreamKey(key);
    const events = Array.isArray(input) ? input : [input];
    assertCommit(events, driver.limits);
    const expected = appendOptions.expectedVersion === undefined ? 'any' : appendOptions.expectedVersion;
    assertExpectedVersion(expected);
    const prepared = prepare(events);
    if (expected === 'any' || expected === 'exists') return appendAfterHead(key, prepared, expected);
    const base = expected === 'no_stream' ? 0 : expected;
    return commitAt(key, prepared, base, expected, base > 0);
  }

  async function appendAtVersion(key: string, events: readonly NewEvent[], version: number) {
    assertStreamKey(key);
    assertCommit(events, driver.limits);
    assertExpectedVersion(version);
    return commitAt(key, prepare(events), version, version, false);
  }

  async function importEvents(key: string, events: readonly StoredEvent[]): Promise<number> {
    assertStreamKey(key);
    const commits = splitImport(key, events, driver.limits);
    let version = events[0]!.sequence - 1;
    // Checked here, not left to the puts: a commit whose ids are already stored counts as stored (a
    // resend), and an import that overlaps the head with the same events must still be refused.
    const head = await gate.lastSequence(key);
    if (head !== version) throw new ConcurrencyError(key, version, head, { driver: driver.name });
    for (const commit of commits) {
      await commitStored(key, commit, version, version, version > 0);
      version += commit.length;
    }
    return version;
  }

  function readStream(key: string, readOptions: ReadOptions = {}): AsyncIterable<StoredEvent> {
    assertStreamKey(key);
    const { from, to, direction = 'forward', pageSize = defaultPageSize } = readOptions;
    if (from !== undefined) assertSequence(from, 'from');
    if (to !== undefined) assertSequence(to, 'to');
    assertSequence(pageSize, 'pageSize');
    const fetch = (after: number, limit: number) =>
      gate.operation(() =>
        gate.spans.operation('read', { 'keyvent.stream.key': key, 'keyvent.after_sequence': after, 'keyvent.limit': limit }, async (span) => {
          const events = await gate.call('fetchEvents', () => driver.fetchEvents(key, after, limit, bounded));
          span.setAttribute('keyvent.event_count', events.length);
          return events;
        }),
      );
    if (direction === 'forward') return readForward(fetch, from ?? 1, to ?? Number.MAX_SAFE_INTEGER, pageSize, maxBytes);
    const head = () => gate.operation(() => gate.lastSequence(key));
    if (direction === 'backward') return readBackward((after, count) => fetchRange(fetch, after, count, maxBytes), head, from, to ?? 1, pageSize);
    throw new ValidationError('direction', `must be 'forward' or 'backward', got ${JSON.stringify(direction)}`);
  }

  async function listStreams(listOptions: ListStreamsOptions = {}): Promise<string[]> {
    if (!driver.listKeys) throw new NotSupportedError(driver.name, 'listing streams (listKeys)');
    const { prefix, startAfter, limit = 1000 } = listOptions;
    if (prefix !== undefined && typeof prefix !== 'string') throw new ValidationError('prefix', 'must be a string');
    if (startAfter !== undefined) assertStreamKey(startAfter, 'startAfter');
    assertSequence(limit, 'limit');
    if (limit > MAX_LIST_LIMIT) throw new ValidationError('limit', `must be at most ${MAX_LIST_LIMIT}`);
    const request: ListKeysOptions = { limit };
    if (prefix) request.prefix = prefix;
    if (startAfter !== undefined) request.startAfter = startAfter;
    return gate.spans.operation('list', { 'keyvent.limit': limit }, async (span) => {
      // keyvent's own streams (snapshots) are not listed: pages are read on past them until full, and a
      // page that ends inside their key range goes on from its end (they sort together, and early: `$`).
      const keys: string[] = [];
      for (let ask = limit; ; ask = Math.max(limit - keys.length, INTERNAL_SKIP_PAGE)) {
        const page = await gate.call('listKeys', () => driver.listKeys!({ ...request, limit: ask }));
        const listed = page.filter((key) => !isInternalStream(key));
        keys.push(...listed.slice(0, limit - keys.length));
        if (page.length < ask || keys.length === limit) break;
        const last = page[page.length - 1]!;
        const inside = SNAPSHOT_STREAM_PREFIXES.find((internal) => last.startsWith(internal));
        const end = inside && prefixEnd(inside);
        if (end === undefined || (prefix !== undefined && !end.startsWith(prefix))) {
          request.startAfter = last;
          continue;
        }
        // `startAfter` is exclusive: the key that is the range's end itself is looked up on its own.
        if ((await gate.lastSequence(end)) > 0) keys.push(end);
        if (keys.length === limit) break;
        request.startAfter = end;
      }
      span.setAttribute('keyvent.stream_count', keys.length);
      return keys;
    });
  }

  /** `append`, traced: the stream, the expected version, the event count, and the new version. */
  function tracedAppend(key: string, input: NewEvent | readonly NewEvent[], appendOptions: AppendOptions = {}) {
    // Whatever the caller passed (validation comes inside): never throw here, never record much.
    const attributes = {
      'keyvent.stream.key': typeof key === 'string' ? key.slice(0, 1024) : typeof key,
      'keyvent.expected_version': describeVersion(appendOptions?.expectedVersion ?? 'any'),
      'keyvent.event_count': Array.isArray(input) ? input.length : 1,
    };
    return gate.spans.operation('append', attributes, async (span) => {
      const result = await append(key, input, appendOptions);
      span.setAttribute('keyvent.version', result.version);
      return result;
    });
  }

  return {
    driverName: driver.name,
    limits: { ...driver.limits },
    append: (key, events, appendOptions) => gate.operation(() => tracedAppend(key, events, appendOptions)),
    readStream,
    streamVersion: (key) =>
      gate.operation(async () => {
        assertStreamKey(key);
        return gate.lastSequence(key);
      }),
    importEvents: (key, events) => gate.operation(() => importEvents(key, events)),
    listStreams: (listOptions) => gate.operation(() => listStreams(listOptions)),
    subscribe: (handler, subscribeOptions) => {
      if (gate.isClosing()) throw new StoreClosedError(driver.name);
      return publisher.subscribe(handler, subscribeOptions);
    },
    close: () =>
      gate.close(async () => {
        // One deadline for both: what consumers' handlers take is not left to subscribers.
        const deadline = Date.now() + closeTimeoutMs;
        await feed.stopConsumers(closeTimeoutMs);
        await publisher.close(Math.max(0, deadline - Date.now()));
      }),
    [appendAtReadVersion]: (key, events, version) => gate.operation(() => appendAtVersion(key, events, version)),
    readAll: (readOptions) => feed.readAll(readOptions),
    [feedAccess]: feed,
  };
}

/**
 * Checks imported events and cuts them into commits: at each change of timestamp and at the driver's
 * limits. Each event is checked (and measured) once, before anything is written.
 */
function splitImport(key: string, events: readonly StoredEvent[], limits: DriverLimits = {}): StoredEvent[][] {
  if (!Array.isArray(events) || events.length === 0) throw new ValidationError('events', 'must be a non-empty array of stored events');
  const first = events[0]!;
  assertSequence(first.sequence, 'events[0].sequence');
  const maxEvents = limits.maxEventsPerCommit ?? Number.MAX_SAFE_INTEGER;
  const maxBytes = limits.maxCommitBytes ?? Number.MAX_SAFE_INTEGER;
  const commits: StoredEvent[][] = [];
  let commit: StoredEvent[] = [];
  let bytes = 0;
  let ids = new Set<string>();
  events.forEach((event, i) => {
    const path = `events[${i}]`;
    if (event.key !== key) throw new ValidationError(`${path}.key`, `is ${JSON.stringify(event.key)}, not the stream being imported`);
    if (event.sequence !== first.sequence + i) throw new ValidationError(`${path}.sequence`, `must be ${first.sequence + i} (consecutive)`);
    if (typeof event.id !== 'string') throw new ValidationError(`${path}.id`, 'an imported event must keep its id');
    if (typeof event.timestamp !== 'string' || Number.isNaN(Date.parse(event.timestamp))) {
      throw new ValidationError(`${path}.timestamp`, 'must be an ISO 8601 date');
    }
    const size = assertEvent(event, path, limits);
    if (size > maxBytes) throw new ValidationError(path, `is ${size} bytes; the driver's limit is ${maxBytes} per commit`);
    const previous = commit[commit.length - 1];
    if (previous && (previous.timestamp !== event.timestamp || commit.length >= maxEvents || bytes + size > maxBytes)) {
      commits.push(commit);
      commit = [];
      bytes = 0;
      ids = new Set();
    }
    assertUniqueId(ids, event, path);
    commit.push(event);
    bytes += size;
  });
  commits.push(commit);
  return commits;
}

const idsOf = (events: readonly StoredEvent[]) => events.map((event) => event.id);

const sameIds = (found: readonly string[], stored: readonly StoredEvent[]) =>
  found.length === stored.length && found.every((id, i) => id === stored[i]!.id);

/**
 * The events found at a commit's sequences are this commit: the same ids, types, timestamp, data and
 * metadata. Ids alone are not enough: a caller may reuse an id, and must then get a conflict.
 */
function isSameCommit(found: readonly StoredEvent[], stored: readonly StoredEvent[]): boolean {
  const same = (a: StoredEvent, b: StoredEvent) =>
    a.id === b.id && a.type === b.type && a.timestamp === b.timestamp &&
    JSON.stringify(a.data) === JSON.stringify(b.data) && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);
  return found.length === stored.length && found.every((event, i) => same(event, stored[i]!));
}

type Prepared = Omit<StoredEvent, 'key' | 'sequence' | 'timestamp'>;

/** Gives every event its id once, so that a retried commit carries the same ids. */
function prepare(events: readonly NewEvent[]): Prepared[] {
  return events.map(({ type, data, id, metadata }) =>
    metadata === undefined ? { type, data, id: id ?? randomUUID() } : { type, data, id: id ?? randomUUID(), metadata },
  );
}

type Fetch = (after: number, limit: number) => Promise<StoredEvent[]>;

/** A page short of its limit is the end of the stream, unless the driver ended it at its byte bound. */
async function* readForward(fetch: Fetch, from: number, to: number, pageSize: number, maxBytes: number) {
  for (let after = from - 1; after < to; ) {
    const limit = Math.min(pageSize, to - after);
    const page = await fetch(after, limit);
    yield* page;
    if (page.length < limit && !endedByBytes(page, maxBytes)) return;
    after += page.length;
  }
}

/** Sequences are dense from 1, so the page below `high` is a forward read that starts `count` lower. */
async function* readBackward(fetch: Fetch, head: () => Promise<number>, from: number | undefined, to: number, pageSize: number) {
  let high = Math.min(from ?? Number.MAX_SAFE_INTEGER, await head());
  while (high >= to) {
    const count = Math.min(pageSize, high - to + 1);
    const page = await fetch(high - count, count);
    for (let i = page.length - 1; i >= 0; i--) yield page[i]!;
    high -= count;
  }
}

/** An error's message, without the `[keyvent] [driver] ` prefix of a keyvent error, to quote inside another's. */
const messageOf = (error: unknown): string => (error instanceof Error ? error.message.replace(/^\[keyvent\] (\[[^\]]*\] )?/, '') : String(error));

/** An expected version for a span attribute: a number or a sentinel as it is, anything else by its type. */
const describeVersion = (version: unknown): string =>
  typeof version === 'number' || typeof version === 'string' ? String(version).slice(0, 32) : typeof version;
