import {
  odata,
  type TableClient,
  type TableEntity,
  type TableEntityResult,
  type TableServiceClientOptions,
  type TransactionAction,
} from '@azure/data-tables';
import {
  ConcurrencyError,
  DriverError,
  feedPosition,
  type FeedRecord,
  eventBytes,
  type KeyValueDriver,
  pageBudget,
  READ_PAGE_BYTES,
  type FetchOptions,
  layoutCheck,
  type PutEventsOptions,
  type StoredEvent,
} from '@keyvent/core';
import { createTableClient, siblingClient } from './client.js';
import { fromEntity, positionOf, toEntity, type EventEntity } from './entities.js';
import { beforeDeadline, COMMIT_WINDOW_MS, createFeed } from './feed.js';
import { defaultFeedTableName } from './feed-table.js';
import { createAzureDirectory } from './directory.js';
import { HEAD_ROW, partitionKeyOf, rowKey } from './keys.js';
import { LAYOUT_VERSION, readLayout } from './layout.js';
import { assertTransactionFits, declaredLimits, detectService, type AzureTablesService } from './limits.js';
import { isRefusal, NAME, serviceCode, tableMissing, translate } from './service-errors.js';

export type AzureTablesDriverOptions = (
  | {
      /** Your own client for the table (made by `createAzureTablesTable` or to the same design). */
      client: TableClient;
      /**
       * Your own client for the feed table. Default: one for `feedTableName` that shares `client`'s
       * pipeline (its credential, retry settings and policies).
       */
      feedClient?: TableClient;
    }
  | {
      connectionString: string;
      tableName: string;
      /**
       * E.g. `{ allowInsecureConnection: true }` for Azurite over http. The SDK's own retries default to
       * 2 here (`retryOptions.maxRetries`), beneath the core's.
       */
      clientOptions?: TableServiceClientOptions;
    }
) & {
  /**
   * The service behind the endpoint, which sets the limits and how reads are ordered. Default: `'cosmos'`
   * for a host `*.table.cosmos.azure.com` (or `.table.cosmosdb.`), else `'storage'`.
   */
  service?: AzureTablesService;
  /**
   * Keep the change feed (`readAll`, consumers): each commit attempt first writes an index entry to the
   * feed table, one more request. `false`: no feed, no feed table, one request per append. Default true.
   */
  feed?: boolean;
  /** The feed table, made by `createAzureTablesTable` with the same name. Default `<tableName>feed`. */
  feedTableName?: string;
};

/** One per stream: its last sequence. */
type HeadEntity = {
  partitionKey: string;
  rowKey: string;
  last: string;
};
const MAX_PAGE = 1000;
/** The events of a read's first request, before their sizes are known: at most 32 MiB of entities. */
const FIRST_RANGE = 32;

/**
 * A driver on Azure Table Storage or Cosmos DB for Table: one entity per event (PartitionKey = the
 * encoded stream key, RowKey = the zero-padded sequence) and a head entity per stream. A commit is one
 * entity-group transaction: a `create` per event (refused if it exists), a `Merge` of the prior event
 * (refused if it does not exist: the atomic prior check) and an upsert of the head, so a commit is one
 * request. Its size is measured as the service counts it, and refused before sending if too large.
 * The change feed (on by default) adds a companion table, `<table>feed`: each attempt first writes an
 * index entry there, which readers verify against the events (see feed.ts), so an append is two requests.
 *
 * @example
 * ```ts
 * const client = await createAzureTablesTable(connectionString, 'events');
 * const store = createStore(createAzureTablesDriver({ client }));
 * ```
 */
export function createAzureTablesDriver(options: AzureTablesDriverOptions): KeyValueDriver {
  const client =
    'client' in options ? options.client : createTableClient(options.connectionString, options.tableName, options.clientOptions);
  const tableUrl = `${client.url}/${client.tableName}`;
  const service = options.service ?? detectService(client.url);
  const translated = (error: unknown, what: string) => translate(error, what, client.tableName);
  const feed = options.feed === false ? undefined : createFeed({
    client: feedClientOf(options, client),
    service,
    howToCreate: feedCreation(client.tableName, options.feedTableName),
    fetchRecords: (key, afterSequence, limit) => fetchPage(key, afterSequence, limit, (entity, event) => ({ event, position: positionOf(entity) })),
    storePositions,
  });

  /**
   * With the feed, the commit's index entry goes first (it cannot join the transaction, which stays in
   * the stream's partition), and the events carry their positions. The commit is abandoned once it could
   * land too late for its entry (see `COMMIT_WINDOW_MS`).
   */
  async function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    const first = events[0]!;
    const partitionKey = partitionKeyOf(first.key);
    const stamped = feed ? putOptions?.feed : undefined;
    const positionIn = (event: StoredEvent) => stamped && feedPosition(stamped.stamp, stamped.hash, event.sequence);
    const actions: TransactionAction[] = events.map((event) => ['create', toEntity(event, positionIn(event))]);
    if (putOptions?.checkPrior) actions.push(['update', { partitionKey, rowKey: rowKey(first.sequence - 1) }, 'Merge', { etag: '*' }]);
    const head: HeadEntity = { partitionKey, rowKey: HEAD_ROW, last: String(events[events.length - 1]!.sequence) };
    actions.push(['upsert', head, 'Replace']);
    assertTransactionFits(actions, events.length, tableUrl, service);
    await checkLayout();
    // The feed's entry and a new stream's directory entry go first: each is only a claim, which readers check against the events.
    const [deadline] = await Promise.all([stamped && feed!.writeEntry(events, stamped), first.sequence === 1 && directory.claim(first.key)]);
    // Abandoned at the deadline (it may have reached the service: in doubt); the core retries with a fresh stamp.
    const late = (cause: unknown) =>
      new DriverError(NAME, `the commit got no answer within ${COMMIT_WINDOW_MS} ms of its feed stamp and was abandoned`, { cause, retryable: true, inDoubt: true });
    try {
      if (!deadline) await client.submitTransaction(actions);
      else await beforeDeadline(deadline, (abortSignal) => client.submitTransaction(actions, { abortSignal }), late);
      if (first.sequence === 1) directory.confirmed(first.key);
    } catch (error) {
      // A create that collided, or the prior check's Merge that found no event: nothing was written.
      const code = serviceCode(error);
      // A first commit that collided: the stream exists, and its directory entry is confirmed.
      if (first.sequence === 1 && code === 'EntityAlreadyExists') directory.confirmed(first.key);
      if (stamped && code !== 'EntityAlreadyExists' && isRefusal(error)) await feed!.markRefused(events, stamped);
      if (code === 'EntityAlreadyExists' || (code === 'ResourceNotFound' && putOptions?.checkPrior)) {
        throw new ConcurrencyError(first.key, first.sequence - 1, undefined, { cause: error, driver: NAME });
      }
      throw translated(error, 'the transaction failed');
    }
  }

  /** A page of a stream, ended early at the byte bound it is read with. */
  function fetchEvents(key: string, afterSequence: number, limit: number, options?: FetchOptions): Promise<StoredEvent[]> {
    const budget = pageBudget(options?.maxBytes);
    return fetchPage(key, afterSequence, limit, (_, event) => event, (event) => budget.add(event), options?.maxBytes);
  }

  /**
   * Reads RowKey ranges from (after, after + n]: sequences are consecutive, so a range holds exactly
   * min(n, remaining) events, sorted here as Cosmos DB returns them in no set order. The first range is
   * FIRST_RANGE events, the next as many as `maxBytes` (default 4 MiB) holds at the largest event read so
   * far (an entity is at most 1 MiB), up to 1,000, until `limit`, the end of the stream, or `full`.
   */
  async function fetchPage<T extends StoredEvent | FeedRecord>(
    key: string,
    afterSequence: number,
    limit: number,
    decode: (entity: TableEntity<EventEntity>, event: StoredEvent) => T,
    full?: (item: T) => boolean,
    maxBytes = READ_PAGE_BYTES,
  ): Promise<T[]> {
    const items: T[] = [];
    let largest = 1;
    for (let after = afterSequence, size = Math.min(limit, FIRST_RANGE); size > 0; ) {
      const last = Math.min(after + size, Number.MAX_SAFE_INTEGER);
      const filter = odata`PartitionKey eq ${partitionKeyOf(key)} and RowKey gt ${rowKey(after)} and RowKey le ${rowKey(last)}`;
      const range = await read(async () => {
        const found: { sequence: number; item: T }[] = [];
        for await (const page of client.listEntities<EventEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(size, MAX_PAGE) })) {
          for (const entity of page) {
            const event = fromEntity(entity as TableEntity<EventEntity>, key);
            largest = Math.max(largest, eventBytes(event));
            found.push({ sequence: event.sequence, item: decode(entity as TableEntity<EventEntity>, event) });
          }
        }
        return found.sort((a, b) => a.sequence - b.sequence).map(({ item }) => item);
      });
      for (const item of range) {
        items.push(item);
        if (full?.(item)) return items;
      }
      if (range.length < last - after) return items;
      after = last;
      size = Math.min(limit - items.length, MAX_PAGE, Math.max(1, Math.floor(maxBytes / largest)));
    }
    return items;
  }

  /** Sets the feed positions of a commit's events: one transaction of merges, in the stream's partition. */
  async function storePositions(events: readonly StoredEvent[], positions: readonly string[]): Promise<void> {
    const actions: TransactionAction[] = events.map((event, i) => [
      'update',
      { partitionKey: partitionKeyOf(event.key), rowKey: rowKey(event.sequence), fx: positions[i]! },
      'Merge',
      { etag: '*' },
    ]);
    try {
      await client.submitTransaction(actions);
    } catch (error) {
      throw translated(error, 'the positions of a restamped commit could not be stored');
    }
  }

  /** A point read; absent (ResourceNotFound) is undefined, a missing table is an error. */
  function pointRead<T extends object>(key: string, row: string): Promise<TableEntityResult<T> | undefined> {
    return read(() =>
      client.getEntity<T>(partitionKeyOf(key), row).catch((error: unknown) => {
        const code = serviceCode(error);
        if (code === 'TableNotFound') throw tableMissing(client.tableName, error);
        return code === 'ResourceNotFound' ? undefined : Promise.reject(error);
      }),
    );
  }

  const directory = createAzureDirectory({ client, service, read, exists: async (key) => (await pointRead(key, rowKey(1))) !== undefined });
  const checkLayout = layoutCheck(NAME, LAYOUT_VERSION, client.tableName, () => read(() => readLayout(client)));

  /** Runs a read; a failure of the SDK becomes a DriverError, like a commit's. */
  async function read<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw translated(error, 'a read failed');
    }
  }

  return {
    name: NAME,
    limits: declaredLimits(service, tableUrl),
    atomicPriorCheck: true,
    preferredPageSize: MAX_PAGE,
    ...(feed && { feed: feed.feed }),
    checkSequence: async (key, sequence) => (await pointRead(key, rowKey(sequence))) !== undefined,
    lastSequence: async (key) => Number((await pointRead<HeadEntity>(key, HEAD_ROW))?.last ?? 0),
    fetchEvents,
    putEvents,
    listKeys: async (listOptions) => {
      await checkLayout();
      return directory.listKeys(listOptions);
    },
    close: () => directory.settle(),
  };
}

/** The feed table's client: the caller's, one made from the connection string, or one sharing the caller's events client's pipeline. */
function feedClientOf(options: AzureTablesDriverOptions, client: TableClient): TableClient {
  const tableName = options.feedTableName ?? defaultFeedTableName(client.tableName);
  if ('client' in options) return options.feedClient ?? siblingClient(client, tableName);
  return createTableClient(options.connectionString, tableName, options.clientOptions);
}

/** How to make a missing feed table, for the error that says so. */
function feedCreation(tableName: string, feedTableName: string | undefined): string {
  const named = feedTableName === undefined ? '' : `, clientOptions, { feedTableName: ${JSON.stringify(feedTableName)} }`;
  return `createAzureTablesTable(connectionString, ${JSON.stringify(tableName)}${named}), which makes the feed table too, or create the driver with feed: false`;
}
