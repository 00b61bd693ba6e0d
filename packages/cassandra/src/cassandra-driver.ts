import { Client, types, type ClientOptions } from 'cassandra-driver';
import {
  ConcurrencyError,
  FEED_START,
  feedPosition,
  eventBytes,
  type KeyValueDriver,
  pageBudget,
  READ_PAGE_BYTES,
  layoutCheck,
  type PutEventsOptions,
  runBackendRequest,
  type StoredEvent,
} from '@keyvent/core';
import { guardClient } from './client-guard.js';
import { createCassandraFeed } from './feed.js';
import { createCassandraDirectory } from './directory.js';
import { companionTables, LAYOUT_ROW, LAYOUT_VERSION, qualifiedTable } from './schema.js';

export type CassandraDriverOptions = {
  keyspace: string;
  /** Default `events`. */
  table?: string;
  /** Consistency of reads and of a commit's write phase. Default QUORUM. */
  consistency?: types.consistencies;
  /** Consistency of a commit's conditions (Paxos), and of the read that settles a commit whose write timed out. Default SERIAL. */
  serialConsistency?: types.consistencies;
  /**
   * The change feed: how long after its stamp an index entry whose commit is not found is settled by a read
   * at SERIAL (until then consumers' settled position waits at it). Must exceed the longest a commit's
   * batch may still reach a coordinator after its entry was written. Default 30,000.
   */
  pendingTimeoutMs?: number;
  /** Keep the change feed (its index and checkpoint rows). Default true; false writes no index (for stores that need no feed, and to measure its cost). */
  feed?: boolean;
} & (
  | { /** Your own client; the driver never shuts it down. */ client: Client }
  | { /** Settings for a client the driver creates and shuts down on close. */ clientOptions: ClientOptions }
);

const NAME = 'cassandra';
const { consistencies } = types;
const EVENT_COLUMNS = 'seq, type, data, id, ts, meta, fx, sizes';
/**
 * The rows of a read's first page, before the stream's sizes are known: at most 32 times the largest
 * event the driver takes (4 MiB). Reads of up to 32 events are one request.
 */
const FIRST_PAGE_ROWS = 32;
const MAX_EVENT_BYTES = 4 * 1024 * 1024;
const MAX_SIZE_CLASS = Math.log2(MAX_EVENT_BYTES);
/** A commit's size class: log2 of its largest event's bytes, rounded up (at least 2^10). */
function sizeClassOf(events: readonly StoredEvent[]): number {
  const largest = Math.max(...events.map((event) => eventBytes(event)));
  return Math.max(10, Math.ceil(Math.log2(largest)));
}
/** Errors of an overloaded or briefly unreachable cluster, or of a lost connection: worth another try. */
const TRANSIENT_NAMES = new Set(['NoHostAvailableError', 'OperationTimedOutError', 'BusyConnectionError']);
/**
 * Server errors worth another try: unavailable, overloaded, bootstrapping, and the write and read
 * timeouts. A timed-out write (a CAS write timeout among them) may have landed: the core resends the
 * same event ids, and the resend's Paxos round first completes any round left in progress, so the ids
 * then say whose commit it was.
 */
const TRANSIENT_CODES = new Set([
  types.responseErrorCodes.unavailableException,
  types.responseErrorCodes.overloaded,
  types.responseErrorCodes.isBootstrapping,
  types.responseErrorCodes.writeTimeout,
  types.responseErrorCodes.readTimeout,
]);

type Row = types.Row;

/**
 * A driver on Apache Cassandra: one row per event in the stream's partition. A commit is one
 * conditional batch in that partition (`INSERT … IF NOT EXISTS` per event, and the static `head`
 * column set to the new last sequence, `IF head = ?` when the caller's version must be checked), so it
 * is atomic, isolated by Paxos, and one request.
 *
 * @example
 * ```ts
 * const client = new Client({ contactPoints: ['10.0.0.1'], localDataCenter: 'dc1' });
 * await createCassandraSchema(client, { keyspace: 'app' });
 * const store = createStore(createCassandraDriver({ client, keyspace: 'app' }));
 * ```
 */
export function createCassandraDriver(options: CassandraDriverOptions): KeyValueDriver {
  const table = qualifiedTable(options.keyspace, options.table ?? 'events');
  const owned = !('client' in options);
  const client = 'client' in options ? options.client : new Client(options.clientOptions);
  guardClient(client);
  const read = { prepare: true, consistency: options.consistency ?? consistencies.quorum };
  const write = { ...read, serialConsistency: options.serialConsistency ?? consistencies.serial };
  const insert = `INSERT INTO ${table} (key, seq, type, data, id, ts, meta, fx) VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`;
  const { feedTable, checkpointTable, directoryTable } = companionTables(options.keyspace, options.table ?? 'events');

  const checkLayout = layoutCheck(NAME, LAYOUT_VERSION, `${table} (its layout row in ${checkpointTable})`, async () => {
    const result = await run('a read', () => client.execute(`SELECT value FROM ${checkpointTable} WHERE name = ?`, [LAYOUT_ROW], read));
    return (result.first()?.get('value') as string | null) ?? undefined;
  });

  async function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    await checkLayout();
    const first = events[0]!;
    const last = events[events.length - 1]!.sequence;
    const base = first.sequence - 1;
    const stamp = putOptions?.feed;
    // The feed's entry and a new stream's directory entry go first: each is only a claim, which readers check against the rows.
    await Promise.all([
      stamp && feed.writeEntry(events, stamp, feedPosition(stamp.stamp, stamp.hash, first.sequence)),
      first.sequence === 1 && directory.claim(first.key),
    ]);
    const queries = events.map((event) => ({
      query: insert,
      params: [event.key, event.sequence, event.type, JSON.stringify(event.data), event.id, event.timestamp,
        // Unset, not null: a null is a tombstone written for every event without metadata.
        event.metadata === undefined ? types.unset : JSON.stringify(event.metadata),
        stamp ? feedPosition(stamp.stamp, stamp.hash, event.sequence) : types.unset],
    }));
    const sizes = [sizeClassOf(events)];
    queries.push(
      putOptions?.checkPrior
        ? { query: `UPDATE ${table} SET head = ?, sizes = sizes + ? WHERE key = ? IF head = ?`, params: [last, sizes, first.key, base] }
        : { query: `UPDATE ${table} SET head = ?, sizes = sizes + ? WHERE key = ?`, params: [last, sizes, first.key] },
    );
    const result = await run('the commit', () => client.batch(queries, write));
    const head = result.wasApplied() ? last : (result.first()?.get('head') as types.Long | null | undefined)?.toNumber();
    // The stream exists (this commit or another made it): its directory entry is confirmed.
    if (first.sequence === 1 && head) directory.confirmed(first.key);
    if (!result.wasApplied()) {
      throw new ConcurrencyError(first.key, base, head ?? undefined, { driver: NAME, storedIds: storedIdsOf(result.rows, events) });
    }
  }

  /**
   * Rows after a sequence, in pages the coordinator builds bounded in bytes: the first of at most
   * FIRST_PAGE_ROWS rows, the next of as many as `maxBytes` (default 4 MiB) holds at the stream's largest event
   * (the static `sizes`, which comes with every row). `full` ends the read early (the driver's page bound).
   * A final read (at SERIAL) reads back one commit (at most maxCommitBytes) in one page.
   */
  async function fetchRows(
    key: string,
    afterSequence: number,
    limit: number,
    consistency = read.consistency,
    full?: (row: Row) => boolean,
    maxBytes = READ_PAGE_BYTES,
  ): Promise<Row[]> {
    const rows: Row[] = [];
    let fetchSize = consistency === write.serialConsistency ? limit : Math.min(limit, FIRST_PAGE_ROWS);
    let pageState: string | undefined;
    do {
      const options = { ...read, consistency, fetchSize, pageState };
      const result = await run('a read', () => client.execute(`SELECT ${EVENT_COLUMNS} FROM ${table} WHERE key = ? AND seq > ? LIMIT ?`, [key, afterSequence, limit], options));
      for (const row of result.rows) {
        rows.push(row);
        if (full?.(row)) return rows;
      }
      pageState = result.pageState ?? undefined;
      const largest = 2 ** Math.max(...((result.rows[0]?.get('sizes') as number[] | null) ?? [MAX_SIZE_CLASS]));
      fetchSize = Math.max(1, Math.min(limit - rows.length, Math.floor(maxBytes / largest)));
    } while (pageState && rows.length < limit);
    return rows;
  }

  async function fetchEvents(key: string, afterSequence: number, limit: number, maxBytes?: number, consistency?: types.consistencies): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    const budget = pageBudget(maxBytes);
    const full = (row: Row) => {
      const event = toEvent(key, row);
      events.push(event);
      return budget.add(event);
    };
    await fetchRows(key, afterSequence, limit, consistency, full, maxBytes);
    return events;
  }

  const feed = createCassandraFeed({
    client,
    eventsTable: table,
    feedTable,
    checkpointTable,
    read,
    write,
    run,
    serial: write.serialConsistency,
    pendingTimeoutMs: options.pendingTimeoutMs ?? 30_000,
    fetchRecords: async (key, afterSequence, limit, consistency) =>
      (await fetchRows(key, afterSequence, limit, consistency)).map((row) => ({ event: toEvent(key, row), position: (row.get('fx') as string | null) ?? FEED_START })),
  });

  async function lastSequence(key: string): Promise<number> {
    const result = await run('a read', () => client.execute(`SELECT head FROM ${table} WHERE key = ? LIMIT 1`, [key], read));
    const head = result.first()?.get('head') as types.Long | null | undefined;
    return head ? head.toNumber() : 0;
  }

  async function checkSequence(key: string, sequence: number): Promise<boolean> {
    const result = await run('a read', () => client.execute(`SELECT seq FROM ${table} WHERE key = ? AND seq = ?`, [key, sequence], read));
    return result.rowLength > 0;
  }

  const directory = createCassandraDirectory({ client, directoryTable, read, run, exists: (key) => checkSequence(key, 1) });

  let closing: Promise<void> | undefined;
  return {
    name: NAME,
    atomicPriorCheck: true,
    preferredPageSize: 1000,
    // A conditional batch is one mutation of one partition: Cassandra's batch-size warn and fail
    // thresholds apply to batches over several partitions, not to it. What bounds it is the largest
    // mutation the commit log takes (half of commitlog_segment_size: 16 MiB by default); stay well under.
    limits: { maxEventsPerCommit: 1000, maxEventBytes: MAX_EVENT_BYTES, maxCommitBytes: 8 * 1024 * 1024 },
    checkSequence,
    fetchEvents: (key, afterSequence, limit, fetchOptions) => fetchEvents(key, afterSequence, limit, fetchOptions?.maxBytes),
    ...(options.feed === false ? {} : { feed }),
    // A read at SERIAL first completes any Paxos round left in progress in the partition, and since
    // CASSANDRA-12126 (3.0.24, 3.11.10, 4.0) supersedes one it cannot complete: a batch whose write
    // timed out on the server is then either found, or can never land. Not one whose coordinator may
    // still be running (see inDoubt): the core then reports the outcome as unknown.
    fetchEventsFinal: (key, afterSequence, limit, fetchOptions) => fetchEvents(key, afterSequence, limit, fetchOptions?.maxBytes, write.serialConsistency),
    putEvents,
    lastSequence,
    listKeys: async (listOptions) => {
      await checkLayout();
      return directory.listKeys(listOptions);
    },
    close: () => (closing ??= directory.settle().then(() => (owned ? client.shutdown() : undefined))),
  };
}

/**
 * A refused batch returns the rows its conditions met: the ids at the commit's sequences, where all of
 * them exist; none where none does (then the prior check failed). Otherwise the core reads them.
 */
function storedIdsOf(rows: Row[], events: readonly StoredEvent[]): string[] | undefined {
  const ids = new Map<number, string>();
  for (const row of rows) {
    const seq = row.get('seq') as types.Long | null | undefined;
    if (seq) ids.set(seq.toNumber(), row.get('id') as string);
  }
  const found = events.map((event) => ids.get(event.sequence));
  if (found.every((id) => id === undefined)) return [];
  return found.every((id) => id !== undefined) ? (found as string[]) : undefined;
}

function toEvent(key: string, row: Row): StoredEvent {
  const event: StoredEvent = {
    key,
    sequence: (row.get('seq') as types.Long).toNumber(),
    type: row.get('type') as string,
    data: JSON.parse(row.get('data') as string),
    id: row.get('id') as string,
    timestamp: row.get('ts') as string,
  };
  const metadata = row.get('meta') as string | null;
  if (metadata !== null) event.metadata = JSON.parse(metadata);
  return event;
}

/** Runs a request; a transient cluster failure or a lost connection becomes a retryable DriverError. */
function run<T>(what: string, request: () => Promise<T>): Promise<T> {
  return runBackendRequest(NAME, what, request, isTransient, { describe, inDoubt });
}

/**
 * The client's NoHostAvailableError prints each host's error whole, stack included: say instead, per
 * host tried, what it answered.
 */
function describe(error: Error): string {
  const { innerErrors } = error as { innerErrors?: Record<string, Error | undefined> };
  if (error.name !== 'NoHostAvailableError' || !innerErrors) return error.message;
  const hosts = Object.entries(innerErrors).map(([host, inner]) => `${host}: ${inner?.message ?? 'failed'}`);
  return `no host could serve it (${hosts.join('; ') || 'none to try'})`;
}

/**
 * Sent, and no reply: a client-side timeout, or a connection lost after the request was written. The
 * coordinator keeps running the request (a CAS round retries until its own timeout), so it may still
 * apply the batch after this error, and even after a read at SERIAL. A server's error reply (a write
 * timeout, unavailable) means the coordinator has finished.
 */
function inDoubt(error: unknown): boolean {
  const { name, isSocketError, requestNotWritten, innerErrors } = error as {
    name?: string;
    isSocketError?: boolean;
    requestNotWritten?: boolean;
    innerErrors?: Record<string, unknown>;
  };
  if (name === 'NoHostAvailableError') return Object.values(innerErrors ?? {}).some(inDoubt);
  return name === 'OperationTimedOutError' || (isSocketError === true && requestNotWritten !== true);
}

function isTransient(error: unknown): boolean {
  const { name, code, isSocketError, message } = error as { name?: string; code?: number; isSocketError?: boolean; message?: string };
  // A pool whose connections were all reset throws a plain Error until it reconnects.
  return TRANSIENT_NAMES.has(name ?? '') || TRANSIENT_CODES.has(code ?? -1) || isSocketError === true || message === 'No connection available';
}
