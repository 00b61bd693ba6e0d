import { odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import {
  commitPrefixOf,
  compareKeys,
  DriverError,
  FEED_START,
  feedKeyOf,
  feedPosition,
  positionInCommit,
  sequenceOf,
  stampOf,
  type CheckpointRow,
  type DriverFeed,
  type FeedKey,
  type FeedReadOptions,
  type FeedRecord,
  type StoredEvent,
} from '@keyvent/core';
import { chunks, joinChunks } from './entities.js';
import {
  CHECKPOINT_PARTITION,
  daysBetween,
  dayOfPosition,
  earliestDay,
  feedPartitionOf,
  indexEntity,
  indexPartitionKey,
  META_PARTITION,
  START_ROW,
  type IndexEntity,
} from './feed-table.js';
import { decodeKey, encodeKey, partitionKeyOf } from './keys.js';
import { entityBytes, SERVICE_LIMITS, type AzureTablesService } from './limits.js';
import { NAME, serviceCode, statusOf, translate } from './service-errors.js';

/**
 * D: an entry whose commit is still absent this long after its stamp never gets it, and is dead. The
 * service stops processing a request 30 seconds after receiving it, and the driver sends (and lets the
 * SDK resend) a commit only within {@link COMMIT_WINDOW_MS} of its stamp, so nothing can land later.
 */
export const PENDING_MS = 60_000;
/** The longest the service works on a request it received (Table Storage's documented maximum timeout). */
const SERVICE_TIMEOUT_MS = 30_000;
/** Room for the writer's and the reader's clocks to disagree about the stamp. */
const CLOCK_MARGIN_MS = 5_000;
/** How long after its stamp a commit may still reach the service: after that the request is abandoned. */
export const COMMIT_WINDOW_MS = PENDING_MS - SERVICE_TIMEOUT_MS - CLOCK_MARGIN_MS;

/**
 * Runs a request with a signal that aborts it at `deadline` (milliseconds since the epoch), the SDK's
 * own retries included; an abort is thrown as `late(cause)`.
 */
export async function beforeDeadline<T>(deadline: number, request: (signal: AbortSignal) => Promise<T>, late: (cause: unknown) => Error): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
  try {
    return await request(controller.signal);
  } catch (error) {
    throw controller.signal.aborted ? late(error) : error;
  } finally {
    clearTimeout(timer);
  }
}

/** Entries verified at once: each is a read of its stream. */
const VERIFY_CONCURRENCY = 16;
const MAX_PAGE = 1000;

type CheckpointEntity = {
  partitionKey: string;
  rowKey: string;
  /** The name, encoded (a long one does not fit the RowKey whole). */
  n: string;
  v: number;
  pn: number;
  [chunk: `p${number}`]: string;
};

/** What the feed needs of the driver. */
export interface FeedDependencies {
  /** The client of the feed table. */
  client: TableClient;
  service: AzureTablesService;
  /** How to create the feed table, for the error that says it is missing. */
  howToCreate: string;
  /** The events of a stream after a sequence with their stored positions, as `fetchEvents` reads them. */
  fetchRecords(key: string, afterSequence: number, limit: number): Promise<FeedRecord[]>;
  /** Sets the stored positions of a commit's events (one transaction in the stream's partition). */
  storePositions(events: readonly StoredEvent[], positions: readonly string[]): Promise<void>;
}

/** An entry checked against the stored events: the commit's records, or why it yields none. */
type Verdict = FeedRecord[] | 'dead' | 'pending';

/**
 * The change feed on Azure Tables (`stamped`). A commit's index entry cannot join its entity-group
 * transaction, which stays in the stream's partition, so each attempt writes its entry to the feed table
 * first and the commit after it. Readers trust an entry only once the stored events show it (the event
 * at its first sequence carries its id); an entry whose commit is absent is pending for D, then dead.
 */
export function createFeed(dependencies: FeedDependencies) {
  const { client, service } = dependencies;
  const failure = (error: unknown, what: string) => translate(error, what, client.tableName, dependencies.howToCreate);

  /** Runs requests to the feed table; a failure of the SDK becomes a DriverError. */
  async function run<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw failure(error, what);
    }
  }

  /** A point read of the feed table; absent is undefined. */
  function pointRead<T extends object>(partitionKey: string, rowKey: string): Promise<TableEntityResult<T> | undefined> {
    return run('a feed read', () =>
      client.getEntity<T>(partitionKey, rowKey).catch((error: unknown) => (serviceCode(error) === 'ResourceNotFound' ? undefined : Promise.reject(error))),
    );
  }

  /**
   * Writes an entry. Found there already with the same commit: a copy the SDK resent after the first
   * landed. With another commit (the same microsecond and key hash): a retryable failure, so that the
   * core takes a new stamp.
   */
  async function putEntry(entry: IndexEntity, abortSignal?: AbortSignal): Promise<void> {
    try {
      await client.createEntity(entry, { abortSignal });
    } catch (error) {
      if (serviceCode(error) !== 'EntityAlreadyExists') throw error;
      const stored = await client.getEntity<IndexEntity>(entry.partitionKey, entry.rowKey, { abortSignal });
      if (stored.i === entry.i && stored.k === entry.k) return;
      throw new DriverError(NAME, `another commit's feed entry holds position ${entry.rowKey}; the commit was not sent`, { cause: error, retryable: true });
    }
  }

  /**
   * Writes the entry of a commit attempt, before the commit. Returns the deadline (milliseconds since the
   * epoch) by which the commit must reach the service, {@link COMMIT_WINDOW_MS} after its stamp, so that
   * no copy of it can land after D: send it with {@link beforeDeadline}.
   * @throws a retryable DriverError, the commit unsent, if the window passed already (the core retries with a fresh stamp).
   */
  async function writeEntry(events: readonly StoredEvent[], stamped: { stamp: number } & FeedKey): Promise<number> {
    const first = events[0]!;
    const deadline = stamped.stamp / 1000 + COMMIT_WINDOW_MS;
    const tooLate = (cause?: unknown) =>
      new DriverError(NAME, `the feed entry took more than ${COMMIT_WINDOW_MS} ms after its stamp; the commit was not sent`, { cause, retryable: true });
    if (Date.now() >= deadline) throw tooLate();
    const entry = indexEntity(first, events.length, feedPosition(stamped.stamp, stamped.hash, first.sequence), stamped.slice);
    try {
      await beforeDeadline(deadline, (abortSignal) => putEntry(entry, abortSignal), tooLate);
    } catch (error) {
      throw failure(error, 'the feed entry could not be written; the commit was not sent');
    }
    if (Date.now() >= deadline) throw tooLate();
    return deadline;
  }

  /**
   * Marks the entry of an attempt whose commit the service refused (its answer, not a lost reply), so
   * that readers take it for dead at once instead of holding at it until D. Best effort: an entry left
   * unmarked is dead at D all the same. A commit refused because its first sequence is taken needs no
   * mark: the event there shows another id.
   */
  async function markRefused(events: readonly StoredEvent[], stamped: { stamp: number } & FeedKey): Promise<void> {
    const first = events[0]!;
    const { partitionKey, rowKey } = indexEntity(first, events.length, feedPosition(stamped.stamp, stamped.hash, first.sequence), stamped.slice);
    await client.updateEntity({ partitionKey, rowKey, x: true }, 'Merge', { etag: '*' }).catch(() => {});
  }

  // Where a read from the start begins: the `meta` entity, kept once found (it never changes).
  let startDay: string | undefined;
  async function firstDay(): Promise<string | undefined> {
    if (startDay !== undefined) return startDay;
    const meta = await pointRead<{ day: string }>(META_PARTITION, START_ROW);
    if (meta) return (startDay = meta.day);
    // A feed table made without createAzureTablesTable: find the earliest day (not kept: entries may come before it).
    return run('a feed read', () => earliestDay(client, service));
  }

  /** The entries of one feed partition's day matching `filter`, in RowKey order, at least `wanted` of them if there are. */
  async function queryDay(filter: string, wanted: number): Promise<IndexEntity[]> {
    const found: IndexEntity[] = [];
    const pages = client.listEntities<IndexEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(wanted, MAX_PAGE) });
    for await (const page of pages) {
      for (const entity of page) found.push(entity as IndexEntity);
      // Table Storage returns a partition in RowKey order, so the first `wanted` are these; Cosmos DB keeps
      // no order, so there the whole day (within the bounds) is read and sorted.
      if (service === 'storage' && found.length >= wanted) break;
    }
    return found.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
  }

  /**
   * Up to `limit` entries of one feed partition in (lower, upTo] and the slices, day by day; `full` when
   * it stopped at `limit`, so that more may follow its last entry.
   */
  async function readPartition(partition: number, days: readonly string[], lower: string, upTo: string, [from, to]: readonly [number, number], limit: number) {
    const entries: IndexEntity[] = [];
    for (const day of days) {
      const partitionKey = indexPartitionKey(partition, day);
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey gt ${lower} and RowKey le ${upTo} and s ge ${from} and s le ${to}`;
      entries.push(...(await queryDay(filter, limit - entries.length)));
      if (entries.length >= limit) return { entries: entries.slice(0, limit), full: true };
    }
    return { entries, full: false };
  }

  /**
   * One page of the index after RowKey `lower`: a read per feed partition the slices touch, run together
   * and merged. A partition that stopped at `limit` bounds the page: nothing past its last entry is
   * taken, as another entry of it may sort before the next of the others.
   */
  async function readIndex(lower: string, upTo: string, slices: readonly [number, number], limit: number) {
    const start = lower === FEED_START ? await firstDay() : dayOfPosition(lower);
    if (start === undefined) return { entries: [], bound: upTo };
    const days = daysBetween(start, dayOfPosition(upTo));
    const first = feedPartitionOf(slices[0]);
    const partitions = Array.from({ length: feedPartitionOf(slices[1]) - first + 1 }, (_, i) => first + i);
    const read = await run('a feed read', () => Promise.all(partitions.map((partition) => readPartition(partition, days, lower, upTo, slices, limit))));
    let bound = upTo;
    for (const { entries, full } of read) {
      const last = entries[entries.length - 1]?.rowKey;
      if (full && last !== undefined && last < bound) bound = last;
    }
    const entries = read.flatMap((partition) => partition.entries).filter((entry) => entry.rowKey <= bound);
    return { entries: entries.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1)), bound };
  }

  /**
   * Checks an entry against the stored events of its stream. The event at its first sequence with its
   * id: the commit landed, and its events are the records. Another id there: that sequence went to
   * another commit, for good: dead. None there: the commit may still land until D after the stamp
   * (pending), and never after (dead), unless its writer marked it refused.
   */
  async function verify(entry: IndexEntity, after: string, now: number): Promise<Verdict> {
    const first = sequenceOf(entry.rowKey);
    // A commit wholly at or before `after` (the one `after` is in) yields nothing: no read.
    if (positionInCommit(entry.rowKey, first + entry.n - 1) <= after) return [];
    const stored = await dependencies.fetchRecords(decodeKey(entry.k), first - 1, entry.n);
    const head = stored[0]?.event;
    if (head?.sequence === first) {
      return head.id === entry.i ? stored.map(({ event }) => ({ event, position: positionInCommit(entry.rowKey, event.sequence) })) : 'dead';
    }
    return entry.x === true || stampOf(entry.rowKey) / 1000 + PENDING_MS < now ? 'dead' : 'pending';
  }

  /**
   * The records in (after, upTo], from verified entries in position order, and how far that answer is
   * whole. Dead entries are passed over; a pending one sets `complete` just below the first of them, and
   * the records after it are returned all the same (a consumer's live pass goes on, its settled position
   * waits). Pages with no record (dead entries, the commit `after` is in) are read past.
   */
  async function read({ after, upTo, slices, limit }: FeedReadOptions): Promise<{ records: FeedRecord[]; reached: string; complete?: string }> {
    const records: FeedRecord[] = [];
    let complete: string | undefined;
    const now = Date.now();
    // An entry's RowKey is its commit's first position: start at the commit `after` may be inside.
    let lower = after === FEED_START ? FEED_START : commitPrefixOf(after);
    for (;;) {
      const { entries, bound } = await readIndex(lower, upTo, slices, limit + 1);
      for (let at = 0; at < entries.length; at += VERIFY_CONCURRENCY) {
        const batch = entries.slice(at, at + VERIFY_CONCURRENCY);
        const verdicts = await run('a feed read', () => Promise.all(batch.map((entry) => verify(entry, after, now))));
        for (const [i, verdict] of verdicts.entries()) {
          const entry = batch[i]!;
          if (verdict === 'pending') complete ??= positionInCommit(entry.rowKey, sequenceOf(entry.rowKey) - 1);
          else if (verdict !== 'dead') records.push(...verdict.filter(({ position }) => position > after && position <= upTo));
          // Whole commits, whole up to this one's last event: at most one past `limit`.
          if (records.length >= limit) return { records, reached: positionInCommit(entry.rowKey, sequenceOf(entry.rowKey) + entry.n - 1), complete };
        }
      }
      if (bound === upTo || records.length > 0) return { records, reached: bound, complete };
      lower = bound;
    }
  }

  /** A late commit's new place: a new entry first (its events are stored: it verifies at once), then the events' positions. */
  async function restamp(events: readonly StoredEvent[], positions: readonly string[]): Promise<void> {
    const first = events[0]!;
    const entry = indexEntity(first, events.length, positions[0]!, feedKeyOf(first.key).slice);
    await run('a restamp', () => putEntry(entry));
    await dependencies.storePositions(events, positions);
  }

  // Checkpoints: PartitionKey `c`, RowKey the name as stream keys are encoded (escaped; a long one by its hash).
  const checkpointRow = (name: string) => partitionKeyOf(name);

  async function loadCheckpoint(name: string): Promise<(CheckpointRow & { etag: string }) | undefined> {
    const row = await pointRead<CheckpointEntity>(CHECKPOINT_PARTITION, checkpointRow(name));
    return row && { name, value: joinChunks(row), version: row.v, etag: row.etag };
  }

  /** The entity of a checkpoint: its value split into chunks (a string property holds 64 KiB), refused past an entity's 1 MiB. */
  function checkpointEntity(name: string, value: string, version: number): TableEntity<CheckpointEntity> {
    const parts = chunks(value);
    const entity: TableEntity<CheckpointEntity> = { partitionKey: CHECKPOINT_PARTITION, rowKey: checkpointRow(name), n: encodeKey(name), v: version, pn: parts.length };
    parts.forEach((part, i) => (entity[`p${i}`] = part));
    const size = entityBytes(entity);
    if (size > SERVICE_LIMITS[service].entityBytes) {
      throw new DriverError(NAME, `the checkpoint ${JSON.stringify(name)} would be a ${size}-byte entity; Azure Tables stores at most ${SERVICE_LIMITS[service].entityBytes}`);
    }
    return entity;
  }

  /**
   * Version 1 creates the row (refused if it exists); a later one replaces the row read at the version
   * before, on its ETag (refused if another worker wrote it since). Sent as a transaction of one
   * operation: Azurite 3.35 decodes a single entity's request body 64 KiB at a time, breaking a
   * character split between two (its batch parser joins the bytes first); to the service it is the same.
   */
  async function saveCheckpoint(name: string, value: string, version: number): Promise<boolean> {
    const entity = checkpointEntity(name, value, version);
    if (version === 1) return writeCheckpoint(['create', entity], 'EntityAlreadyExists');
    const stored = await loadCheckpoint(name);
    if (stored?.version !== version - 1) return false;
    return writeCheckpoint(['update', entity, 'Replace', { etag: stored.etag }], 'UpdateConditionNotSatisfied');
  }

  /** Writes a checkpoint row; false if the service refuses it with `refusal` (its condition failed). */
  function writeCheckpoint(action: TransactionAction, refusal: string): Promise<boolean> {
    return run('a checkpoint', () =>
      client.submitTransaction([action]).then(
        () => true,
        (error: unknown) => (serviceCode(error) === refusal || statusOf(error) === 412 ? false : Promise.reject(error)),
      ),
    );
  }

  async function listCheckpoints(): Promise<CheckpointRow[]> {
    const rows: CheckpointRow[] = [];
    const filter = odata`PartitionKey eq ${CHECKPOINT_PARTITION}`;
    await run('a feed read', async () => {
      for await (const page of client.listEntities<CheckpointEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: MAX_PAGE })) {
        for (const row of page) rows.push({ name: decodeKey(row.n), value: joinChunks(row as CheckpointEntity), version: row.v });
      }
    });
    return rows.sort((a, b) => compareKeys(a.name, b.name));
  }

  const feed: DriverFeed = {
    kind: 'stamped',
    read,
    fetchRecords: (key, afterSequence, limit) => dependencies.fetchRecords(key, afterSequence, limit),
    restamp,
    loadCheckpoint: async (name) => {
      const row = await loadCheckpoint(name);
      return row && { name: row.name, value: row.value, version: row.version };
    },
    saveCheckpoint,
    listCheckpoints,
  };
  return { feed, writeEntry, markRefused };
}
