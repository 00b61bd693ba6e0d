import { backOff } from 'exponential-backoff';
import type { CheckpointRow, DriverFeed, FeedRecord, KeyValueDriver } from './driver.js';
import type { createDriverGate } from './driver-calls.js';
import { DriverError, NotSupportedError, StoreClosedError, ValidationError } from './errors.js';
import { createStamper, FEED_SLICES, FEED_START, feedKeyOf, feedPosition, isFeedPosition, positionAtStamp, type FeedKey } from './feed-positions.js';
import { isInternalStream } from './keys.js';
import type { StoredEvent } from './types.js';
import { assertSequence } from './validation.js';

/** The change feed's timings (stamped drivers; exact drivers need none). */
export interface FeedOptions {
  /**
   * How far behind its clock a reader treats the feed as settled: nothing stamped earlier may still
   * appear. It must exceed the index lag plus the clock skew between writers and readers plus
   * `restampAfterMs`. Default 10,000.
   */
  settleMs?: number;
  /** How far behind its clock the live pass reads, so that commits stamped a moment ago can land first. Default 200. */
  liveLagMs?: number;
  /** A commit acknowledged later than this after its stamp is stamped again, so a settled reader cannot have passed it. Default 2,000. */
  restampAfterMs?: number;
  /** The writer's and reader's clock in milliseconds (for tests that skew it). Default `Date.now`. */
  clock?: () => number;
}

/**
 * An event read from the change feed, with its position: opaque, comparable within one store, a string to
 * keep. `''` for an event that has none (written with the feed off, delivered by gap repair): resume from
 * the position of an event that has one.
 */
export type FeedEvent = StoredEvent & { position: string };

export interface ReadAllOptions {
  /** Exclusive: the position of the last event already seen. Default: the start of the feed. */
  after?: string;
  /** Only streams whose slice (0..1023, see `sliceOf`) is in this range, both ends included. Default all. */
  slices?: readonly [number, number];
  /** The most events to yield. Default: all up to the settled line. */
  limit?: number;
}

type DriverGate = ReturnType<typeof createDriverGate>;

/** @internal */
export const feedAccess: unique symbol = Symbol('keyvent.feedAccess');

const ALL_SLICES = [0, FEED_SLICES - 1] as const;
const READ_PAGE = 500;
/** A re-stamp is tried until it lands (for at most settleMs): backing off up to 5 s between tries. */
const RESTAMP_RETRIES = { numOfAttempts: Number.MAX_SAFE_INTEGER, startingDelay: 100, maxDelay: 5_000, jitter: 'full' as const };

/** The slice (0..1023) of a stream key: the top 10 bits of the SHA-256 of its UTF-8 bytes. For splitting consumers by range. */
export const sliceOf = (key: string): number => feedKeyOf(key).slice;

/** Checks a slice range from a caller and returns it. */
export function assertSlices(slices: unknown, path = 'slices'): readonly [number, number] {
  if (slices === undefined) return ALL_SLICES;
  const valid = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) < FEED_SLICES;
  if (!Array.isArray(slices) || slices.length !== 2 || !valid(slices[0]) || !valid(slices[1]) || slices[0] > slices[1]) {
    throw new ValidationError(path, `must be [from, to] with 0 <= from <= to <= ${FEED_SLICES - 1}`);
  }
  return [slices[0], slices[1]];
}

/**
 * The store's side of the change feed: stamps commits on the way in, and reads the driver's index
 * through the store's gate (retries, close) for `readAll` and consumers.
 */
export function createFeedAccess(driver: KeyValueDriver, gate: DriverGate, options: FeedOptions = {}) {
  const index = driver.feed;
  const settleMs = options.settleMs ?? 10_000;
  const liveLagMs = options.liveLagMs ?? 200;
  const restampAfterMs = options.restampAfterMs ?? 2_000;
  for (const [name, value] of Object.entries({ settleMs, liveLagMs, restampAfterMs })) assertSequence(value + 1, `options.feed.${name}`);
  const clock = options.clock ?? Date.now;
  const nextStamp = createStamper(clock);
  const keys = new Map<string, FeedKey>();

  /** The slice and hash of a key, remembered for the keys seen lately (bounded). */
  function keyOf(key: string): FeedKey {
    let found = keys.get(key);
    if (!found) {
      if (keys.size >= 10_000) keys.clear();
      keys.set(key, (found = feedKeyOf(key)));
    }
    return found;
  }

  function need(): DriverFeed {
    if (!index) throw new NotSupportedError(driver.name, 'the change feed (feed)');
    return index;
  }

  /** What a commit carries into the feed: its slice and hash, and a stamp taken now. */
  function stamp(key: string) {
    // keyvent's own streams (snapshots) are no part of the feed.
    return index && !isInternalStream(key) ? { stamp: index.kind === 'stamped' ? nextStamp() : 0, ...keyOf(key) } : undefined;
  }

  /**
   * A stamped commit acknowledged long after its stamp may sit below a settled reader already: stamp it
   * again (its events may then appear twice in `readAll`, and reach a consumer twice) before the append
   * resolves. A re-stamp is idempotent, so it is tried, each time with a fresh stamp, until it lands, for
   * at most `settleMs` (or until the store closes); only then is the failure a process warning and the
   * append resolves (the commit is stored and cannot be undone, and a consumer still delivers it in order
   * if its stream commits again within its record window).
   */
  async function restampIfLate(events: readonly StoredEvent[], stamped: { stamp: number } & FeedKey) {
    if (index?.kind !== 'stamped' || !index.restamp || clock() * 1000 - stamped.stamp <= restampAfterMs * 1000) return;
    const restamp = () => {
      const again = nextStamp();
      const positions = events.map((event) => feedPosition(again, stamped.hash, event.sequence));
      return gate.call('feed.restamp', () => index.restamp!(events, positions));
    };
    const until = clock() + settleMs;
    try {
      await backOff(restamp, { ...RESTAMP_RETRIES, retry: () => !gate.isClosing() && clock() < until });
    } catch (error) {
      process.emitWarning(
        `[keyvent] [${driver.name}] a late commit to ${JSON.stringify(events[0]!.key)} could not be stamped again within settleMs (${String(error)}): ` +
          "consumers that passed its stamp deliver it only if its stream commits again within their record window",
      );
    }
  }

  const nowMicros = () => Math.floor(clock() * 1000);

  /** The position below which the feed no longer changes. */
  async function settledLine(): Promise<string> {
    const feed = need();
    if (feed.kind === 'exact') return gate.call('feed.settledPosition', () => feed.settledPosition!());
    return positionAtStamp(Math.max(0, nowMicros() - settleMs * 1000));
  }

  /** The position the live pass reads up to: close behind the clock on stamped drivers. */
  async function liveLine(): Promise<string> {
    if (need().kind === 'exact') return settledLine();
    return positionAtStamp(Math.max(0, nowMicros() - liveLagMs * 1000));
  }

  /**
   * One page of the index in `(after, upTo]`: at most `limit` records, in position order. The one rule for
   * every driver, whatever its `read` returns (whole commits, a page per feed partition): records outside
   * the range are dropped, the rest put in position order once each, and a page over `limit` is cut after
   * its `limit`-th record, which is then how far it reached.
   */
  async function read(after: string, upTo: string, slices: readonly [number, number], limit: number) {
    const feed = need();
    const page = await gate.call('feed.read', () => feed.read({ after, upTo, slices, limit }));
    let reached = page.reached < upTo ? page.reached : upTo;
    if (reached < upTo && reached <= after) throw new DriverError(driver.name, 'feed.read answered for nothing past `after` (reached must move on)');
    // In position order, each position once: a driver that merges partitions or verifies entries against
    // rows re-stamped meanwhile (Cassandra) may return a record out of order, or twice.
    let records = page.records
      .filter(({ position }) => position > after && position <= reached)
      .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0))
      .filter((record, i, sorted) => i === 0 || record.position !== sorted[i - 1]!.position);
    if (records.length > limit) {
      records = records.slice(0, limit);
      reached = records[limit - 1]!.position;
    }
    const more = reached < upTo;
    // Never past an entry whose commit may still land.
    const settled = page.complete !== undefined && page.complete < reached ? page.complete : reached;
    return { records, more, reached, settled };
  }

  /** The events of a stream after a sequence, with their positions (`''` for an event not in the feed). */
  async function fetchRecords(key: string, afterSequence: number, limit: number): Promise<FeedRecord[]> {
    const feed = need();
    return gate.call('feed.fetchRecords', () => feed.fetchRecords(key, afterSequence, limit));
  }

  function readAll(readOptions: ReadAllOptions = {}): AsyncIterable<FeedEvent> {
    need();
    const after = readOptions.after ?? FEED_START;
    if (!isFeedPosition(after)) throw new ValidationError('after', 'must be a position read from this store\'s feed');
    const slices = assertSlices(readOptions.slices);
    const limit = readOptions.limit ?? Number.MAX_SAFE_INTEGER;
    assertSequence(limit, 'limit');
    return (async function* () {
      const upTo = await gate.operation(settledLine);
      let position = after;
      for (let left = limit; left > 0; ) {
        const page = await gate.operation(() => read(position, upTo, slices, Math.min(READ_PAGE, left)));
        // Only what is settled: never past an entry whose commit may still land.
        const settled = page.records.filter((record) => record.position <= page.settled);
        for (const { event, position: at } of settled) yield { ...event, position: at };
        left -= settled.length;
        if (!page.more || page.settled < page.reached) return;
        position = page.reached;
      }
    })();
  }

  // The consumers running on this store: close stops them (each finishes its batch and checkpoint) first.
  type Running = { stop: () => Promise<void>; done: Promise<void>; abandon: (timeoutMs: number) => void };
  const consumers = new Set<Running>();
  /** Starts a consumer, to run until it stops or the store closes. @throws StoreClosedError if the store is closing. */
  function runConsumer<T extends Running>(start: () => T): T {
    if (gate.isClosing()) throw new StoreClosedError(driver.name);
    const consumer = start();
    consumers.add(consumer);
    const forget = () => void consumers.delete(consumer);
    consumer.done.then(forget, forget);
    return consumer;
  }
  /**
   * Stops every consumer, waiting at most `timeoutMs`: one whose handler has not returned by then is
   * abandoned (told through its onError; its batch is delivered again after its lease), so that a hung
   * handler cannot hold the store's close.
   */
  async function stopConsumers(timeoutMs: number): Promise<void> {
    const running = [...consumers];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(running.map((consumer) => consumer.stop())), late]);
    clearTimeout(timer);
    for (const consumer of running) if (consumers.delete(consumer)) consumer.abandon(timeoutMs);
  }

  const checkpoints = {
    load: (name: string) => gate.call('feed.loadCheckpoint', () => need().loadCheckpoint(name)),
    /** Writes a row at `version`; a refusal that meets this very write (a resend whose first copy landed) is a success. */
    async save(name: string, value: string, version: number): Promise<boolean> {
      if (await gate.call('feed.saveCheckpoint', () => need().saveCheckpoint(name, value, version))) return true;
      const row = await gate.call('feed.loadCheckpoint', () => need().loadCheckpoint(name));
      return row?.version === version && row.value === value;
    },
    list: (): Promise<CheckpointRow[]> => gate.call('feed.listCheckpoints', () => need().listCheckpoints()),
  };

  return {
    driverName: driver.name,
    /** @throws NotSupportedError if the driver has no feed. */
    assertSupported: () => void need(),
    get kind() {
      return need().kind;
    },
    stamp,
    restampIfLate,
    keyOf,
    nowMicros,
    settledLine,
    liveLine,
    read,
    fetchRecords,
    readAll,
    checkpoints,
    runConsumer,
    stopConsumers,
  };
}

export type FeedAccess = ReturnType<typeof createFeedAccess>;
