import {
  odata,
  TableClient,
  type TableEntity,
  type TableEntityResult,
  type TableServiceClientOptions,
  type TransactionAction,
} from '@azure/data-tables';
import {
  compareKeys,
  ConcurrencyError,
  DriverError,
  type KeyValueDriver,
  type ListKeysOptions,
  type PutEventsOptions,
  type StoredEvent,
} from '@keyvent/core';
import { fromEntity, toEntity, type EventEntity } from './entities.js';
import { decodeKey, encodeKey, HEAD_ROW, isLongPartitionKey, leadingUnits, partitionKeyOf, prefixUpperBound, rowKey, SCAN_PREFIX_UNITS } from './keys.js';

export type AzureTablesDriverOptions =
  | {
      /** Your own client for the table (made by `createAzureTablesTable` or to the same design). */
      client: TableClient;
    }
  | {
      connectionString: string;
      tableName: string;
      /** E.g. `{ allowInsecureConnection: true }` for Azurite over http. */
      clientOptions?: TableServiceClientOptions;
    };

const NAME = 'azure-tables';

/** One per stream: its last sequence, and its full key where the PartitionKey is the long form. */
type HeadEntity = {
  partitionKey: string;
  rowKey: string;
  last: string;
  k?: string;
};
const MAX_PAGE = 1000;

/** Statuses worth another try: throttling, timeouts, a busy or failing server. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/**
 * A driver on Azure Table Storage: one entity per event (PartitionKey = the encoded stream key,
 * RowKey = the zero-padded sequence) and a head entity per stream. A commit is one entity-group
 * transaction: a `create` per event (refused if it exists), a `Merge` of the prior event (refused if
 * it does not exist: the atomic prior check) and an upsert of the head, so an append is one request.
 *
 * @example
 * ```ts
 * const client = await createAzureTablesTable(connectionString, 'events');
 * const store = createStore(createAzureTablesDriver({ client }));
 * ```
 */
export function createAzureTablesDriver(options: AzureTablesDriverOptions): KeyValueDriver {
  const client =
    'client' in options
      ? options.client
      : TableClient.fromConnectionString(options.connectionString, options.tableName, options.clientOptions);

  async function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    const first = events[0]!;
    const partitionKey = partitionKeyOf(first.key);
    const actions: TransactionAction[] = events.map((event) => ['create', toEntity(event)]);
    if (putOptions?.checkPrior) actions.push(['update', { partitionKey, rowKey: rowKey(first.sequence - 1) }, 'Merge', { etag: '*' }]);
    const head: HeadEntity = { partitionKey, rowKey: HEAD_ROW, last: String(events[events.length - 1]!.sequence) };
    if (isLongPartitionKey(partitionKey)) head.k = encodeKey(first.key);
    actions.push(['upsert', head, 'Replace']);
    try {
      await client.submitTransaction(actions);
    } catch (error) {
      // 409: an event already exists; 404: the prior event does not. Either way nothing was written.
      if (statusOf(error) === 409 || statusOf(error) === 404) {
        throw new ConcurrencyError(first.key, first.sequence - 1, undefined, { cause: error, driver: NAME });
      }
      throw translate(error, 'the transaction failed');
    }
  }

  function fetchEvents(key: string, afterSequence: number, limit: number): Promise<StoredEvent[]> {
    const filter = odata`PartitionKey eq ${partitionKeyOf(key)} and RowKey gt ${rowKey(afterSequence)} and RowKey lt ${HEAD_ROW}`;
    return read(async () => {
      const events: StoredEvent[] = [];
      const pages = client.listEntities<EventEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, MAX_PAGE) });
      for await (const page of pages) {
        for (const entity of page) {
          if (events.length === limit) return events;
          events.push(fromEntity(entity as TableEntity<EventEntity>, key));
        }
        if (events.length === limit) break;
      }
      return events;
    });
  }

  function pointRead<T extends object>(key: string, row: string): Promise<TableEntityResult<T> | undefined> {
    return read(() =>
      client.getEntity<T>(partitionKeyOf(key), row).catch((error: unknown) => (statusOf(error) === 404 ? undefined : Promise.reject(error))),
    );
  }

  /**
   * Azure returns entities in PartitionKey order, which is not code point order where keys hold escaped
   * characters (nor for long keys); the keys under a prefix are contiguous in any such order, so the
   * prefix's heads are read and sorted here. The cost grows with the number of streams under the prefix.
   */
  function listKeys({ prefix = '', startAfter, limit }: ListKeysOptions): Promise<string[]> {
    const scanPrefix = leadingUnits(encodeKey(prefix), SCAN_PREFIX_UNITS);
    // The upper bound lets the service stop at the end of the prefix instead of scanning the rest of the table.
    const upper = prefixUpperBound(scanPrefix);
    const filter = upper === undefined
      ? odata`RowKey eq ${HEAD_ROW} and PartitionKey ge ${scanPrefix}`
      : odata`RowKey eq ${HEAD_ROW} and PartitionKey ge ${scanPrefix} and PartitionKey lt ${upper}`;
    return read(async () => {
      const pages = client.listEntities<HeadEntity>({ queryOptions: { filter, select: ['PartitionKey', 'k'] } }).byPage({ maxPageSize: MAX_PAGE });
      const keys: string[] = [];
      for await (const page of pages) {
        const inRange = page.filter((head) => head.partitionKey!.startsWith(scanPrefix));
        for (const head of inRange) keys.push(decodeKey(isLongPartitionKey(head.partitionKey!) ? head.k! : head.partitionKey!));
        if (inRange.length < page.length) break;
      }
      return keys
        .filter((key) => key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0))
        .sort(compareKeys)
        .slice(0, limit);
    });
  }

  return {
    name: NAME,
    // 100 operations per transaction, two kept for the prior check and the head; 1 MiB entities of
    // UTF-16 (so half that in UTF-8 bytes); 4 MiB requests, in which escaping may double the payload.
    limits: { maxEventsPerCommit: 98, maxEventBytes: 500 * 1024, maxCommitBytes: 1_900_000 },
    atomicPriorCheck: true,
    preferredPageSize: MAX_PAGE,
    checkSequence: async (key, sequence) => (await pointRead(key, rowKey(sequence))) !== undefined,
    lastSequence: async (key) => Number((await pointRead<HeadEntity>(key, HEAD_ROW))?.last ?? 0),
    fetchEvents,
    putEvents,
    listKeys,
    close: async () => {},
  };
}

/** Runs a read; an HTTP failure becomes a DriverError (retryable for throttling and 5xx), like a commit's. */
async function read<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translate(error, 'a read failed');
  }
}

function translate(error: unknown, what: string): unknown {
  const status = statusOf(error);
  if (status === undefined) return error;
  const reason = (error as Error).message?.split('\n')[0];
  return new DriverError(NAME, `${what} (HTTP ${status}): ${reason}`, { cause: error, retryable: RETRYABLE_STATUS.has(status) });
}
