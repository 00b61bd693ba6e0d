import {
  createConsumer,
  DriverError,
  isKeyventError,
  NotSupportedError,
  stampOf,
  type CheckpointRow,
  type DriverFeed,
  type EventStore,
  type FeedEvent,
  type KeyValueDriver,
} from '@keyvent/core';
import { describeFailure } from './failure.js';
import { formatEventOfStream } from './format-event.js';
import { stopSignal } from './stop-signal.js';

/** The change feed of a driver. @throws NotSupportedError, in the core's words, when it has none. */
function feedOf(driver: KeyValueDriver): DriverFeed {
  if (!driver.feed) throw new NotSupportedError(driver.name, 'the change feed (feed)');
  return driver.feed;
}

export interface TailAllOptions {
  /** Where to start: every event of the feed, or those committed from now on. */
  from: 'start' | 'end';
  slices?: readonly [number, number];
  /** How long to wait between polls of a quiet feed, in milliseconds. */
  interval: number;
  /** Stop after this many events. */
  limit?: number;
  json?: boolean;
}

/**
 * `keyvent tail --all`: follows the store's change feed with an ephemeral consumer (no checkpoint, no
 * lease: it writes nothing to the store) and prints one line per event, until `limit` events or SIGINT
 * or SIGTERM; then the consumer stops and the caller closes the store. A failure the consumer retries
 * (a backend that fails for a while) is one line on stderr.
 *
 * @throws NotSupportedError if the store's driver has no change feed.
 */
export async function tailAll(store: EventStore, options: TailAllOptions, print: (line: string) => void): Promise<void> {
  const signal = stopSignal();
  try {
    let printed = 0;
    let reachLimit: () => void = () => {};
    const limitReached = new Promise<void>((resolve) => (reachLimit = resolve));
    const consumer = createConsumer(store, {
      name: 'keyvent-tail',
      checkpoint: false,
      from: options.from,
      slices: options.slices,
      pollMs: options.interval,
      handler: (events: FeedEvent[]) => {
        for (const event of events) {
          // The limit reached, a batch that came before stop() took effect is dropped.
          if (printed === options.limit || signal.received) return;
          print(options.json ? JSON.stringify(event) : formatEventOfStream(event));
          if (++printed === options.limit) reachLimit();
        }
      },
      onError: (error) => process.stderr.write(`${describeFailure(error).text.split('\n')[0]} (tail --all tries again)\n`),
    });
    await Promise.race([limitReached, signal.stopped, consumer.done]);
    await consumer.stop();
    await consumer.done;
  } finally {
    signal.dispose();
  }
}

/** One checkpoint row of the change feed's consumers, decoded for `keyvent consumers`. */
export interface ConsumerRow {
  /** The row's name: `<consumer>#<from>-<to>`. */
  name: string;
  consumer: string;
  /** The slice range of the row, both ends included (null for a name of another form). */
  slices: [number, number] | null;
  /** The worker that holds or last held the range. */
  worker: string | null;
  /** `held` (until `leaseUntil`), `expired` (its worker stopped without releasing it, or is stuck) or `released` (stopped cleanly). */
  lease: 'held' | 'expired' | 'released' | null;
  leaseUntil: string | null;
  leaseLeftMs: number;
  /** Settled position: every event at or below it was handled. */
  settledPosition: string | null;
  /** Stamped drivers: the time of the settled position (null at the start of the feed). */
  settledAt: string | null;
  /** Exact drivers (memory, LevelDB): the commit number of the settled position. */
  settledCommit: number | null;
  /** Live position (stamped drivers): the live pass read up to here. */
  livePosition: string | null;
  liveAt: string | null;
  /** Stamped drivers: now minus the settled time, in milliseconds (at least the store's settle window, 10 s by default). */
  lagMs: number | null;
  /** Exact drivers: commits of the whole store numbered after the settled position (an upper bound: a failed commit leaves its number unused). */
  commitsBehind: number | null;
  /** Streams handled above the settled position (records kept in the checkpoint). */
  records: number | null;
  /** The row's version: how many times it was written. */
  version: number;
  /** Set when the row's value is not a checkpoint this version of keyvent reads. */
  error?: string;
}

interface CheckpointValue {
  v: 1;
  ps: string;
  pl: string;
  r: unknown[];
  worker: string;
  until: number;
}

const isPosition = (value: unknown): value is string => typeof value === 'string' && (value === '' || /^[0-9a-f]{44}$/.test(value));

function parseCheckpoint(value: string): CheckpointValue | undefined {
  try {
    const checkpoint = JSON.parse(value) as CheckpointValue;
    const valid = checkpoint?.v === 1 && isPosition(checkpoint.ps) && isPosition(checkpoint.pl) && Array.isArray(checkpoint.r) && typeof checkpoint.until === 'number';
    return valid ? checkpoint : undefined;
  } catch {
    return undefined;
  }
}

const timeOf = (position: string) => (position === '' ? null : new Date(stampOf(position) / 1000).toISOString());

/**
 * `keyvent consumers`: the checkpoint rows of the store's consumers, decoded, in name order. Reads only:
 * the rows, and on an exact driver its settled position.
 *
 * @throws NotSupportedError if the driver has no change feed.
 */
export async function listConsumers(driver: KeyValueDriver, now: () => number = Date.now): Promise<ConsumerRow[]> {
  const feed = feedOf(driver);
  const [rows, storeSettled] = await backendCall(driver, "the consumers' checkpoints", () =>
    Promise.all([feed.listCheckpoints(), feed.kind === 'exact' && feed.settledPosition ? feed.settledPosition() : undefined]),
  );
  const at = now();
  // A name's ranges row (`<name>#`, the slice ranges its workers registered) is no checkpoint.
  return rows.filter((row) => !row.name.endsWith('#')).map((row) => decode(row, feed.kind, storeSettled, at));
}

/** A driver's call made outside the store (which would retry it and name the driver): a failure becomes one line naming the driver. */
async function backendCall<T>(driver: KeyValueDriver, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isKeyventError(error)) throw error;
    throw new DriverError(driver.name, `cannot read ${what}: ${(error as Error).message}`, { cause: error });
  }
}

function decode(row: CheckpointRow, kind: DriverFeed['kind'], storeSettled: string | undefined, now: number): ConsumerRow {
  const match = /^(.*)#(\d+)-(\d+)$/.exec(row.name);
  const base = {
    name: row.name,
    consumer: match ? match[1]! : row.name,
    slices: match ? ([Number(match[2]), Number(match[3])] as [number, number]) : null,
  };
  const checkpoint = parseCheckpoint(row.value);
  if (!checkpoint) {
    return {
      ...base,
      ...{ worker: null, lease: null, leaseUntil: null, leaseLeftMs: 0, settledPosition: null, settledAt: null, settledCommit: null },
      ...{ livePosition: null, liveAt: null, lagMs: null, commitsBehind: null, records: null, version: row.version },
      error: 'not a checkpoint this version of keyvent reads',
    };
  }
  const { ps, pl, until } = checkpoint;
  const stamped = kind === 'stamped';
  return {
    ...base,
    worker: typeof checkpoint.worker === 'string' ? checkpoint.worker : null,
    lease: until === 0 ? 'released' : until > now ? 'held' : 'expired',
    leaseUntil: until === 0 ? null : new Date(until).toISOString(),
    leaseLeftMs: Math.max(0, until - now),
    settledPosition: ps,
    settledAt: stamped ? timeOf(ps) : null,
    settledCommit: stamped ? null : stampOf(ps),
    livePosition: pl,
    liveAt: stamped ? timeOf(pl) : null,
    lagMs: stamped && ps !== '' ? Math.max(0, now - Math.floor(stampOf(ps) / 1000)) : null,
    commitsBehind: !stamped && storeSettled !== undefined ? Math.max(0, stampOf(storeSettled) - stampOf(ps)) : null,
    records: checkpoint.r.length,
    version: row.version,
  };
}

/** A duration for people: `850ms`, `12.3s`, `5m 03s`, `2h 05m`, `3d 04h`. */
export function formatDuration(ms: number): string {
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${two((ms % 60_000) / 1000)}s`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h ${two((ms % 3_600_000) / 60_000)}m`;
  return `${Math.floor(ms / 86_400_000)}d ${two((ms % 86_400_000) / 3_600_000)}h`;
}

const HEADER = ['CONSUMER', 'SLICES', 'WORKER', 'LEASE', 'SETTLED', 'LAG', 'RECORDS'];

/** The rows as a table with a header, columns aligned (the last one not padded). */
export function consumerTable(rows: readonly ConsumerRow[]): string[] {
  const cells = rows.map((row) => {
    if (row.error) return [row.consumer, row.slices?.join('-') ?? '?', '?', '?', row.error, '?', '?'];
    const lease = row.lease === 'held' ? `${formatDuration(row.leaseLeftMs)} left` : row.lease!;
    const settled = row.settledCommit !== null ? `commit ${row.settledCommit}` : (row.settledAt ?? 'start');
    const lag = row.lagMs !== null ? formatDuration(row.lagMs) : row.commitsBehind !== null ? `${row.commitsBehind} commits` : '-';
    return [row.consumer, row.slices?.join('-') ?? '?', row.worker ?? '?', lease, settled, lag, String(row.records)];
  });
  const widths = HEADER.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column]!.length)));
  const line = (values: string[]) => values.map((value, column) => (column === values.length - 1 ? value : value.padEnd(widths[column]!))).join('  ');
  return [line(HEADER), ...cells.map(line)];
}
