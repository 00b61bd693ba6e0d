import { randomUUID } from 'node:crypto';
import { ConsumerLeaseError, isConsumerLeaseError, isStoreClosedError, ValidationError } from './errors.js';
import { assertSlices, feedAccess, type FeedAccess, type FeedEvent } from './feed.js';
import { FEED_START, isFeedPosition, positionAtStamp, stampOf } from './feed-positions.js';
import { isInternalStream } from './keys.js';
import type { EventStore } from './store.js';
import { assertSequence } from './validation.js';

export interface ConsumerOptions {
  /** The consumer's name: its checkpoint is kept under it (and its slice range) in the store's backend. */
  name: string;
  /**
   * Takes a batch of events: per stream in sequence order, without gaps. Must be idempotent: after a crash
   * the batch that was being handled is delivered again. A throw is reported (`onError`) and the same
   * batch is offered again after a pause.
   */
  handler: (events: FeedEvent[]) => void | Promise<void>;
  /**
   * Where a consumer with no checkpoint starts: every event (`'start'`, the default) or those committed
   * from now on (`'end'`; on a stamped feed also those of the last `settleMs`, and events with no position
   * whose writer's timestamp is later than the start).
   */
  from?: 'start' | 'end';
  /** The slices (0..1023) this worker covers, both ends included; workers of one name split the range. Default all. */
  slices?: readonly [number, number];
  /** The most events per batch (a long gap is repaired over several). Default 100. */
  batchSize?: number;
  /** How long to wait between polls of a quiet feed, in milliseconds. Default 250. */
  pollMs?: number;
  /** This worker's name, for its lease; default random. A worker of the same name takes over its own lease at once. */
  worker?: string;
  /** How long a lease lasts without renewal, in milliseconds; another worker waits for it to pass. Default 10,000. */
  leaseMs?: number;
  /**
   * Stamped feeds: how long after the settled position passed a stream's last handled event the consumer
   * still remembers it (at most 5,000 streams: past that, the oldest are forgotten and `onError` told).
   * An event whose index entry became visible after the settled position passed it (index lag or clock
   * skew beyond `settleMs`, a commit landed late without an acknowledgement) is still delivered, in order,
   * when its stream commits again within this window. Default 60,000.
   */
  recordWindowMs?: number;
  /** Keep no checkpoint and claim no lease (an ephemeral follower, e.g. `keyvent tail`). Default true. */
  checkpoint?: boolean;
  /** Told of every failure the consumer retries (a handler's throw, a backend error). Default `console.error`. */
  onError?: (error: unknown) => void;
}

/** A running consumer. */
export interface Consumer {
  /** Finishes the batch in hand (and its checkpoint), releases the lease and stops. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the consumer stops: rejected if it stopped on an error it cannot retry (its lease was taken). */
  readonly done: Promise<void>;
}

/** A consumer's checkpoint, as stored: the settled and live positions and the streams handled above the settled one. */
interface Checkpoint {
  v: 1;
  /** Settled position: every event at or below it was handled. */
  ps: string;
  /** Live position: the live pass read up to here. */
  pl: string;
  /** Streams with events handled stamped above `w`: key hash, last sequence handled, the highest stamp handled. */
  r: [string, number, number][];
  /**
   * The record window's floor (a stamp): every stream with an event handled stamped above it has a record,
   * and every event stamped at or below it counts as handled. Absent in rows of earlier versions: the stamps
   * `ps` covers whole.
   */
  w?: number;
  /** `from: 'end'`: when the consumer began (ms since the epoch); an event with no position written before then counts as handled. */
  t?: number;
  worker: string;
  /** Lease end, milliseconds since the epoch. */
  until: number;
}

interface Handled {
  last: number;
  stamp: number;
}

/** Records above the settled position past which the live pass waits for the settled one. */
const MAX_RECORDS = 1_000;
/** The longest record window. */
const MAX_RECORD_WINDOW_MS = 86_400_000;
/** Records in all (the window's included): about 45 bytes each in the checkpoint row. */
const MAX_WINDOW_RECORDS = 5_000;
/** The most events read at once looking back along a stream for its last handled event. */
const MAX_SCAN = 1_000;
const SAVE_EVERY_MS = 1_000;

/**
 * Follows the store's change feed from a durable checkpoint kept in the same backend: every committed
 * event reaches `handler` at least once, per stream in order and without gaps, and never an event of a
 * commit that failed. Several processes may split the slices of one name. See docs/change-feed.md.
 *
 * @example
 * ```ts
 * const consumer = createConsumer(store, {
 *   name: 'balances',
 *   handler: async (events) => { for (const event of events) await project(event); },
 * });
 * // …
 * await consumer.stop();
 * ```
 */
export function createConsumer(store: EventStore, options: ConsumerOptions): Consumer {
  const feed = store[feedAccess];
  feed.assertSupported();
  const checked = checkOptions(options);
  // `'end'` is where the feed is when createConsumer is called, not when the claim, some round trips
  // later, gets to it: a commit made right after this call is the consumer's to deliver.
  const endLine = checked.from === 'end' ? feed.settledLine() : undefined;
  endLine?.catch(() => {});
  const settings: Settings = { ...checked, endLine, startedAt: Date.now() };
  return feed.runConsumer(() => {
    let stopping = false;
    let wake: (() => void) | undefined;
    const done = run(feed, settings, () => stopping, (resolve) => (wake = resolve));
    done.catch(() => {});
    const stop = async () => {
      stopping = true;
      wake?.();
      await done.catch(() => {});
    };
    const abandon = (timeoutMs: number) =>
      settings.onError(new ConsumerLeaseError(settings.name, `its handler had not returned ${timeoutMs} ms after the store began to close (closeTimeoutMs): the store closed without it, and the batch in hand is delivered again once its lease passes`));
    return { stop, done, abandon };
  });
}

type Settings = ReturnType<typeof checkOptions> & {
  /** `from: 'end'`: the settled line read when the consumer was created. */
  endLine?: Promise<string>;
  startedAt: number;
};

function checkOptions(options: ConsumerOptions) {
  if (typeof options?.name !== 'string' || options.name.length === 0 || options.name.length > 200 || /[#\u0000]/.test(options.name)) {
    throw new ValidationError('name', 'must be 1 to 200 characters, without # or NUL');
  }
  if (typeof options.handler !== 'function') throw new ValidationError('handler', 'must be a function');
  const from = options.from ?? 'start';
  if (from !== 'start' && from !== 'end') throw new ValidationError('from', "must be 'start' or 'end'");
  const slices = assertSlices(options.slices);
  const batchSize = options.batchSize ?? 100;
  const pollMs = options.pollMs ?? 250;
  const leaseMs = options.leaseMs ?? 10_000;
  const recordWindowMs = options.recordWindowMs ?? 60_000;
  if (!Number.isInteger(recordWindowMs) || recordWindowMs < 0 || recordWindowMs > MAX_RECORD_WINDOW_MS) {
    throw new ValidationError('recordWindowMs', `must be a whole number of milliseconds from 0 to ${MAX_RECORD_WINDOW_MS} (a day), got ${String(recordWindowMs)}`);
  }
  assertSequence(batchSize, 'batchSize');
  assertSequence(pollMs, 'pollMs');
  assertSequence(leaseMs, 'leaseMs');
  // An idle worker renews its lease once per poll: a poll longer than a third of the lease would let it
  // lapse between two polls, and another worker take the range from a healthy one.
  if ((options.checkpoint ?? true) && pollMs * 3 > leaseMs) {
    throw new ValidationError('pollMs', `must be at most a third of leaseMs (${leaseMs} ms), so that a worker renews its lease in time; got ${pollMs} ms`);
  }
  return {
    ...options,
    from,
    slices,
    batchSize,
    pollMs,
    leaseMs,
    recordWindowMs,
    /** How often a worker renews its lease: while idle, while its handler runs, while it backs off. */
    renewMs: Math.floor(leaseMs / 3),
    row: `${options.name}#${slices[0]}-${slices[1]}`,
    worker: options.worker ?? randomUUID(),
    keep: options.checkpoint ?? true,
    onError: options.onError ?? ((error: unknown) => console.error(`[keyvent] consumer ${options.name}:`, error)),
  };
}

async function run(feed: FeedAccess, settings: Settings, stopped: () => boolean, onWake: (wake: () => void) => void): Promise<void> {
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    // A stop that came while the consumer was busy must not wait out a whole pause.
    if (stopped()) return resolve();
    const timer = setTimeout(resolve, ms);
    onWake(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  const state = settings.keep ? await claim(feed, settings, stopped, sleep) : await origin(feed, settings);
  if (!state) return;
  const worker = createWorker(feed, settings, state);
  let failures = 0;
  try {
    while (!stopped()) {
      try {
        const busy = await worker.step();
        failures = 0;
        if (!busy) await sleep(settings.pollMs);
      } catch (error) {
        if (isConsumerLeaseError(error)) throw error;
        if (isStoreClosedError(error)) return;
        settings.onError(error);
        // Backing off, the worker still holds its range: the pause stays below the lease's renewal
        // interval, and the lease is renewed before the next try.
        const cap = settings.keep ? Math.min(30_000, settings.renewMs) : 30_000;
        await sleep(Math.min(cap, 100 * 2 ** failures++) * (0.5 + Math.random() / 2));
        if (settings.keep && !stopped()) await worker.renew().catch((renewal: unknown) => {
          if (isConsumerLeaseError(renewal)) throw renewal;
        });
      }
    }
  } finally {
    if (settings.keep) await worker.release().catch(() => {});
  }
}

interface State {
  checkpoint: Checkpoint;
  version: number;
}

/**
 * A fresh checkpoint at the consumer's origin. `'end'` on a stamped feed starts at the settled line, not at
 * the clock: a commit stamped by a writer whose clock runs behind lands below the clock, and must not be
 * taken for one made before the consumer existed. So it also delivers what was committed in the last
 * `settleMs` before it started.
 */
async function origin(feed: FeedAccess, settings: Settings): Promise<State> {
  const end = settings.from === 'end';
  const at = end ? await (settings.endLine ?? feed.settledLine()).catch(() => feed.settledLine()) : FEED_START;
  return { checkpoint: { v: 1, ps: at, pl: at, r: [], w: coveredStamp(at), ...(end ? { t: settings.startedAt } : {}), worker: settings.worker, until: 0 }, version: 0 };
}

/**
 * Takes this worker's range: registers it in the name's ranges row (refused if it overlaps another range of
 * the name), waits while another worker's lease runs, then writes the range's row with this worker's name
 * (conditional on its version).
 */
async function claim(feed: FeedAccess, settings: Settings, stopped: () => boolean, sleep: (ms: number) => Promise<void>): Promise<State | undefined> {
  await registerRange(feed, settings);
  while (!stopped()) {
    const row = await feed.checkpoints.load(settings.row);
    const state = row ? { checkpoint: parseCheckpoint(row.value, row.name), version: row.version } : await origin(feed, settings);
    const { worker, until } = state.checkpoint;
    if (row && worker !== settings.worker && until > Date.now()) {
      await sleep(Math.min(until - Date.now() + 10, settings.leaseMs));
      continue;
    }
    const claimed: Checkpoint = { ...state.checkpoint, worker: settings.worker, until: Date.now() + settings.leaseMs };
    if (await feed.checkpoints.save(settings.row, JSON.stringify(claimed), state.version + 1)) {
      return { checkpoint: claimed, version: state.version + 1 };
    }
  }
  return undefined;
}

/** The row that holds the slice ranges of a consumer name (`<name>#`: names hold no `#`). */
const rangesRowOf = (name: string): string => `${name}#`;

/**
 * Adds this worker's range to its name's ranges row, in one write conditional on the row's version, so that
 * of two workers started together with overlapping ranges exactly one gets its range: the other reads the
 * row again and finds the overlap. A range already there (another worker of the same range) is taken as it
 * is. Names from before this row existed start it from their range rows.
 */
async function registerRange(feed: FeedAccess, settings: Settings): Promise<void> {
  const [from, to] = settings.slices;
  const name = rangesRowOf(settings.name);
  for (;;) {
    const row = await feed.checkpoints.load(name);
    const ranges = row ? parseRanges(row.value, name) : await rangesOfRows(feed, settings.name);
    if (ranges.some(([a, b]) => a === from && b === to)) return;
    const overlap = ranges.find(([a, b]) => a <= to && b >= from);
    if (overlap) throw new ConsumerLeaseError(settings.name, `slices ${from}-${to} overlap the range ${overlap[0]}-${overlap[1]} it already has`);
    const next: [number, number][] = [...ranges, [from, to]];
    const value = JSON.stringify({ v: 1, ranges: next.sort((x, y) => x[0] - y[0]) });
    if (await feed.checkpoints.save(name, value, (row?.version ?? 0) + 1)) return;
  }
}

/** The ranges of a name's checkpoint rows (`<name>#<from>-<to>`). */
async function rangesOfRows(feed: FeedAccess, name: string): Promise<[number, number][]> {
  const ranges: [number, number][] = [];
  for (const row of await feed.checkpoints.list()) {
    const match = /^(.*)#(\d+)-(\d+)$/.exec(row.name);
    if (match && match[1] === name) ranges.push([Number(match[2]), Number(match[3])]);
  }
  return ranges;
}

function parseRanges(value: string, name: string): [number, number][] {
  let parsed: { v?: number; ranges?: unknown } | undefined;
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const slice = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) < 1024;
  const valid = (range: unknown) => Array.isArray(range) && range.length === 2 && slice(range[0]) && slice(range[1]) && range[0] <= range[1];
  if (parsed?.v !== 1 || !Array.isArray(parsed.ranges) || !parsed.ranges.every(valid)) {
    throw new ValidationError('checkpoint', `${name} is not a ranges row this version of keyvent wrote`);
  }
  return parsed.ranges as [number, number][];
}

function parseCheckpoint(value: string, name: string): Checkpoint {
  const checkpoint = JSON.parse(value) as Checkpoint;
  if (checkpoint?.v !== 1 || !isFeedPosition(checkpoint.ps) || !isFeedPosition(checkpoint.pl) || !Array.isArray(checkpoint.r)) {
    throw new ValidationError('checkpoint', `${name} is not a checkpoint this version of keyvent wrote`);
  }
  return checkpoint;
}

/** The highest stamp whose every position lies at or below `position`. */
const coveredStamp = (position: string): number => (positionAtStamp(stampOf(position)) <= position ? stampOf(position) : stampOf(position) - 1);

/** The passes over the feed for one claimed range, with the records that make them exact. */
function createWorker(feed: FeedAccess, settings: Settings, state: State) {
  let { ps, pl } = state.checkpoint;
  let floor = state.checkpoint.w ?? coveredStamp(ps);
  const began = state.checkpoint.t;
  const windowMicros = feed.kind === 'stamped' ? settings.recordWindowMs * 1000 : 0;
  let windowCut = false;
  const records = new Map<string, Handled>(state.checkpoint.r.map(([hash, last, stamp]) => [hash, { last, stamp }]));
  let version = state.version;
  let savedAt = Date.now();
  /** A checkpoint whose write failed: written again before anything else. */
  let unsaved: string | undefined;
  let settledCaughtUp = false;

  /** One pass over one page: `settled` moves the position the checkpoint trusts; `live` runs ahead of it. */
  async function pass(kind: 'settled' | 'live'): Promise<boolean> {
    const from = kind === 'settled' || pl < ps ? ps : pl;
    const line = kind === 'settled' ? await feed.settledLine() : await feed.liveLine();
    if (from >= line) {
      if (kind === 'settled') settledCaughtUp = true;
      return false;
    }
    const page = await feed.read(from, line, settings.slices, settings.batchSize);
    const changes = new Map<string, Handled>();
    const batch: FeedEvent[] = [];
    // How far the page was taken: every record up to here was handed over or found handled. A gap that
    // does not fit in the batch cuts the page there (the next batch goes on from it).
    let taken = from;
    let cut = false;
    for (const { event, position } of page.records) {
      if (isInternalStream(event.key)) {
        taken = position;
        continue;
      }
      const { hash } = feed.keyOf(event.key);
      const handled = changes.get(hash) ?? records.get(hash);
      const last = handled?.last ?? (await handledWithoutRecord(event.key, event.sequence));
      if (event.sequence <= last) {
        taken = position;
        continue;
      }
      // A gap: the events between were committed (sequences are dense) but are not visible here yet, sit
      // later in the feed (a writer's clock behind), or are not in the feed at all (written with it off):
      // read them by key, which sees every commit, and hand them over first, at most a batch at a time.
      const missing = event.sequence - last - 1;
      const room = settings.batchSize - batch.length;
      if (missing >= room && batch.length > 0) {
        cut = true;
        break;
      }
      const wanted = Math.min(missing, room);
      const repaired = wanted > 0 ? await feed.fetchRecords(event.key, last, wanted) : [];
      if (repaired.length !== wanted || repaired.some((record, i) => record.event.sequence !== last + 1 + i)) {
        throw new Error(`stream ${JSON.stringify(event.key)}: events ${last + 1}-${last + wanted} could not be read to fill a gap`);
      }
      // The record lasts until the settled position passes this event: a stream caught up over several
      // batches keeps it between them, even when the events handed over so far have no position.
      let stamp = Math.max(handled?.stamp ?? 0, stampOf(position));
      for (const record of repaired) {
        batch.push({ ...record.event, position: record.position });
        stamp = Math.max(stamp, stampOf(record.position));
      }
      if (missing >= room) {
        changes.set(hash, { last: last + wanted, stamp });
        cut = true;
        break;
      }
      batch.push({ ...event, position });
      changes.set(hash, { last: event.sequence, stamp });
      taken = position;
    }
    if (batch.length > 0) await handle(batch);
    const reached = cut ? taken : page.reached;
    const settledTo = page.settled < reached ? page.settled : reached;
    const held = page.settled < page.reached;
    const more = cut || page.more;
    for (const [hash, handled] of changes) records.set(hash, handled);
    if (kind === 'settled') {
      ps = settledTo > ps ? settledTo : ps;
      settledCaughtUp = !more || held;
      forgetBelowWindow();
    } else {
      pl = reached > pl ? reached : pl;
    }
    await save(batch.length > 0);
    // Held at an entry whose commit may still land: the settled pass waits for the next poll; the live one goes on.
    return more && !(kind === 'settled' && held);
  }

  /**
   * Moves the record window's floor up behind the settled position and forgets the streams whose handled
   * events all lie at or below it. Past MAX_WINDOW_RECORDS the oldest go too, the floor rises with them
   * (the window shrinks), and onError is told once; never past what the settled position covers (events
   * above it may be unread yet: the records of the live pass stay, bounded by its pause at MAX_RECORDS).
   */
  function forgetBelowWindow() {
    const covered = coveredStamp(ps);
    floor = Math.max(floor, covered - windowMicros);
    if (records.size > MAX_WINDOW_RECORDS) {
      const stamps = [...records.values()].map((handled) => handled.stamp).sort((a, b) => a - b);
      floor = Math.max(floor, Math.min(covered, stamps[records.size - MAX_WINDOW_RECORDS - 1]!));
      if (!windowCut) {
        windowCut = true;
        settings.onError(new Error(`consumer ${settings.name}: more than ${MAX_WINDOW_RECORDS} streams were handled within recordWindowMs (${settings.recordWindowMs} ms): the window now starts ${Math.round((stampOf(ps) - floor) / 1000)} ms behind the settled position`));
      }
    }
    for (const [hash, handled] of records) if (handled.stamp <= floor) records.delete(hash);
  }

  /**
   * The last sequence of a stream with no record that this consumer handled: the highest event before
   * `sequence` stamped at or below the record window's floor. A handled event stamped above it would have
   * left a record, so one there without (an entry that became visible after the settled position passed
   * it) is not handled, and gap repair delivers it. Events with no position (written with the feed off)
   * were handled only with a later event of their stream, so they count only below such an event. Read
   * backwards from `sequence - 1` in growing pages: usually one read of one event.
   */
  async function handledWithoutRecord(key: string, sequence: number): Promise<number> {
    let high = sequence - 1;
    for (let size = 1; high > 0; size = Math.min(size * 16, MAX_SCAN)) {
      const low = Math.max(0, high - size);
      const page = await feed.fetchRecords(key, low, high - low);
      for (let i = page.length - 1; i >= 0; i--) {
        const { event, position } = page[i]!;
        if (position !== FEED_START ? stampOf(position) <= floor : began !== undefined && Date.parse(event.timestamp) < began) return event.sequence;
      }
      high = low;
    }
    return 0;
  }

  /** How many streams have events handled above a position (by the live pass). */
  function recordsAbove(position: string): number {
    let count = 0;
    for (const handled of records.values()) if (positionAtStamp(handled.stamp) > position) count++;
    return count;
  }

  async function save(force: boolean) {
    if (!settings.keep || (!force && Date.now() - savedAt < Math.min(SAVE_EVERY_MS, settings.renewMs))) return;
    await write(Date.now() + settings.leaseMs);
  }

  /**
   * Runs the handler, renewing the lease every `renewMs` while it runs (a handler may take longer than the
   * lease). A renewal writes the checkpoint as it was before the batch (positions and records move only
   * once the handler has returned), and is awaited before anything else is written.
   */
  async function handle(batch: FeedEvent[]): Promise<void> {
    if (!settings.keep) return settings.handler(batch);
    let renewal: Promise<void> | undefined;
    let lost: unknown;
    const timer = setInterval(() => {
      renewal ??= write(Date.now() + settings.leaseMs)
        .catch((error: unknown) => {
          // A store closed around a handler that never returns (close abandons it): nothing to renew.
          if (isStoreClosedError(error)) clearInterval(timer);
          else if (isConsumerLeaseError(error)) lost = error;
          else settings.onError(error);
        })
        .finally(() => (renewal = undefined));
    }, settings.renewMs);
    // Renewing is no reason to keep a process alive.
    timer.unref();
    try {
      await settings.handler(batch);
    } finally {
      clearInterval(timer);
      await renewal;
    }
    if (lost) throw lost;
  }

  /**
   * Writes the checkpoint at the next version. A write that failed is written again, the same value, before
   * anything else happens (step() calls it first): nothing more is handed over until it is saved, and a
   * write that landed although it reported a failure is then recognised as this worker's own.
   */
  async function write(until: number) {
    unsaved ??= JSON.stringify({ v: 1, ps, pl, r: [...records].map(([hash, { last, stamp }]) => [hash, last, stamp]), w: floor, t: began, worker: settings.worker, until } satisfies Checkpoint);
    if (!(await feed.checkpoints.save(settings.row, unsaved, version + 1))) {
      throw new ConsumerLeaseError(settings.name, `another worker took slices ${settings.slices.join('-')} over; this one stops`);
    }
    unsaved = undefined;
    version++;
    savedAt = Date.now();
  }

  return {
    /** Runs the passes once; true if there is more to read at once. */
    async step(): Promise<boolean> {
      if (unsaved !== undefined) await write(0);
      const more = await pass('settled');
      if (more || feed.kind === 'exact' || !settledCaughtUp || recordsAbove(ps) >= MAX_RECORDS) {
        await save(false);
        return more;
      }
      const live = await pass('live');
      await save(false);
      return live;
    },
    /** Renews the lease (the checkpoint as it is) if it is due. */
    renew: () => save(false),
    release: async () => {
      unsaved = undefined;
      await write(0);
    },
  };
}
