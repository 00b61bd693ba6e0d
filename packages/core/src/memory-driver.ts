import { pageBudget } from './pages.js';
import type { CheckpointRow, DriverFeed, DriverLimits, FeedRecord, FetchOptions, KeyValueDriver, ListKeysOptions, PutEventsOptions } from './driver.js';
import { ConcurrencyError } from './errors.js';
import { FEED_START, feedPosition, positionAtStamp, resumeInCommit, stampOf } from './feed-positions.js';
import { compareKeys } from './keys.js';
import type { StoredEvent } from './types.js';

export interface MemoryDriverOptions {
  /** Limits to enforce, e.g. to rehearse a backend's in unit tests. None by default. */
  limits?: DriverLimits;
  /** Keep the change feed (its index and checkpoint rows). Default true; false writes no index (for stores that need no feed, and to measure its cost). */
  feed?: boolean;
}

interface MemoryStream {
  /** Sequence → the event as JSON, so reads return copies and data round-trips as on a real backend. */
  events: Map<number, string>;
  /** Sequence → the event's position in the feed (absent: written with the feed off). */
  positions: Map<number, string>;
  last: number;
}

/**
 * A driver that keeps everything in process memory: for tests and prototypes. Each call runs to
 * completion without yielding, so every commit is atomic and conditional by construction.
 *
 * @example
 * ```ts
 * const store = createStore(createMemoryDriver());
 * ```
 */
export function createMemoryDriver(options: MemoryDriverOptions = {}): KeyValueDriver {
  const streams = new Map<string, MemoryStream>();
  let sortedKeys: string[] | undefined;
  // The feed: one entry per commit, in commit order (each put runs without yielding), numbered from 1.
  const commits: { key: string; first: number; count: number; slice: number; hash: string }[] = [];
  const checkpoints = new Map<string, CheckpointRow>();

  function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    const first = events[0]!;
    const stream = streams.get(first.key);
    const priorMissing = putOptions?.checkPrior && !stream?.events.has(first.sequence - 1);
    if (priorMissing || events.some((event) => stream?.events.has(event.sequence))) {
      return Promise.reject(new ConcurrencyError(first.key, first.sequence - 1, stream?.last ?? 0, { driver: 'memory' }));
    }
    const target = stream ?? { events: new Map(), positions: new Map(), last: 0 };
    for (const { key: _key, sequence, ...rest } of events) target.events.set(sequence, JSON.stringify(rest));
    target.last = Math.max(target.last, events[events.length - 1]!.sequence);
    if (!stream) {
      streams.set(first.key, target);
      sortedKeys = undefined;
    }
    if (putOptions?.feed) {
      const { slice, hash } = putOptions.feed;
      commits.push({ key: first.key, first: first.sequence, count: events.length, slice, hash });
      for (const { sequence } of events) target.positions.set(sequence, feedPosition(commits.length, hash, sequence));
    }
    return Promise.resolve();
  }

  async function fetchEvents(key: string, afterSequence: number, limit: number, options?: FetchOptions): Promise<StoredEvent[]> {
    const stream = streams.get(key);
    const page: StoredEvent[] = [];
    const budget = pageBudget(options?.maxBytes);
    for (let sequence = afterSequence + 1; stream && sequence <= stream.last && page.length < limit && !budget.full; sequence++) {
      const json = stream.events.get(sequence);
      if (json === undefined) continue;
      const event: StoredEvent = { key, sequence, ...JSON.parse(json) };
      page.push(event);
      // As on LevelDB: the stored text holds the event's JSON and more, so its length × 3 bounds its UTF-8 size.
      budget.add(event, json.length * 3);
    }
    return page;
  }

  async function listKeys({ prefix = '', startAfter, limit }: ListKeysOptions): Promise<string[]> {
    sortedKeys ??= [...streams.keys()].sort(compareKeys);
    const keys = sortedKeys;
    const lowest = startAfter !== undefined && compareKeys(startAfter, prefix) >= 0 ? startAfter : prefix;
    let index = lowerBound(keys, lowest);
    if (keys[index] === startAfter) index++;
    const page: string[] = [];
    for (; index < keys.length && page.length < limit && keys[index]!.startsWith(prefix); index++) page.push(keys[index]!);
    return page;
  }

  const feed: DriverFeed = {
    kind: 'exact',
    async read({ after, upTo, slices: [from, to], limit }) {
      const records: FeedRecord[] = [];
      // Commit n (from 1) is at index n - 1: start at the commit of `after`'s stamp.
      for (let index = Math.max(0, stampOf(after) - 1); index < commits.length; index++) {
        const commit = commits[index]!;
        if (commit.slice < from || commit.slice > to) continue;
        let position = after;
        const inside = resumeInCommit(after, feedPosition(index + 1, commit.hash, commit.first));
        for (const event of await fetchEvents(commit.key, inside, commit.first + commit.count - 1 - inside)) {
          position = feedPosition(index + 1, commit.hash, event.sequence);
          if (position > upTo) return { records, reached: upTo };
          if (position > after) records.push({ event, position });
        }
        if (records.length >= limit) return { records, reached: position };
      }
      return { records, reached: upTo };
    },
    settledPosition: async () => positionAtStamp(commits.length),
    async fetchRecords(key, afterSequence, limit) {
      const positions = streams.get(key)?.positions;
      return (await fetchEvents(key, afterSequence, limit)).map((event) => ({ event, position: positions?.get(event.sequence) ?? FEED_START }));
    },
    loadCheckpoint: async (name) => checkpoints.get(name),
    async saveCheckpoint(name, value, version) {
      if ((checkpoints.get(name)?.version ?? 0) !== version - 1) return false;
      checkpoints.set(name, { name, value, version });
      return true;
    },
    listCheckpoints: async () => [...checkpoints.values()].sort((a, b) => compareKeys(a.name, b.name)),
  };

  return {
    name: 'memory',
    ...(options.feed === false ? {} : { feed }),
    limits: options.limits,
    atomicPriorCheck: true,
    checkSequence: async (key, sequence) => streams.get(key)?.events.has(sequence) ?? false,
    lastSequence: async (key) => streams.get(key)?.last ?? 0,
    fetchEvents,
    putEvents,
    listKeys,
    close: async () => {},
  };
}

function lowerBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(sorted[middle]!, value) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
