import {
  odata,
  type TableClient,
  type TableEntity,
  type TableEntityResult,
  type TableServiceClientOptions,
  type TransactionAction,
} from '@azure/data-tables';
import { compareKeys, ConcurrencyError, type KeyValueDriver, type ListKeysOptions, type PutEventsOptions, type StoredEvent } from '@keyvent/core';
import { createTableClient } from './client.js';
import { fromEntity, toEntity, type EventEntity } from './entities.js';
import { decodeKey, encodeKey, HEAD_ROW, isLongPartitionKey, leadingUnits, partitionKeyOf, prefixUpperBound, rowKey, SCAN_PREFIX_UNITS } from './keys.js';
import { assertTransactionFits, declaredLimits, detectService, type AzureTablesService } from './limits.js';
import { NAME, serviceCode, tableMissing, translate } from './service-errors.js';

export type AzureTablesDriverOptions = (
  | {
      /** Your own client for the table (made by `createAzureTablesTable` or to the same design). */
      client: TableClient;
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
};

/** One per stream: its last sequence, and its full key where the PartitionKey is the long form. */
type HeadEntity = {
  partitionKey: string;
  rowKey: string;
  last: string;
  k?: string;
};
const MAX_PAGE = 1000;

/**
 * A driver on Azure Table Storage or Cosmos DB for Table: one entity per event (PartitionKey = the
 * encoded stream key, RowKey = the zero-padded sequence) and a head entity per stream. A commit is one
 * entity-group transaction: a `create` per event (refused if it exists), a `Merge` of the prior event
 * (refused if it does not exist: the atomic prior check) and an upsert of the head, so an append is one
 * request. Its size is measured as the service counts it, and refused before sending if too large.
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

  async function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    const first = events[0]!;
    const partitionKey = partitionKeyOf(first.key);
    const actions: TransactionAction[] = events.map((event) => ['create', toEntity(event)]);
    if (putOptions?.checkPrior) actions.push(['update', { partitionKey, rowKey: rowKey(first.sequence - 1) }, 'Merge', { etag: '*' }]);
    const head: HeadEntity = { partitionKey, rowKey: HEAD_ROW, last: String(events[events.length - 1]!.sequence) };
    if (isLongPartitionKey(partitionKey)) head.k = encodeKey(first.key);
    actions.push(['upsert', head, 'Replace']);
    assertTransactionFits(actions, events.length, tableUrl, service);
    try {
      await client.submitTransaction(actions);
    } catch (error) {
      // A create that collided, or the prior check's Merge that found no event: nothing was written.
      const code = serviceCode(error);
      if (code === 'EntityAlreadyExists' || (code === 'ResourceNotFound' && putOptions?.checkPrior)) {
        throw new ConcurrencyError(first.key, first.sequence - 1, undefined, { cause: error, driver: NAME });
      }
      throw translated(error, 'the transaction failed');
    }
  }

  /**
   * Reads the RowKey range (after, after + limit]: sequences are consecutive, so it holds exactly
   * min(limit, remaining) events. They are sorted here, as Cosmos DB returns them in no set order.
   */
  function fetchEvents(key: string, afterSequence: number, limit: number): Promise<StoredEvent[]> {
    const last = Math.min(afterSequence + limit, Number.MAX_SAFE_INTEGER);
    const filter = odata`PartitionKey eq ${partitionKeyOf(key)} and RowKey gt ${rowKey(afterSequence)} and RowKey le ${rowKey(last)}`;
    return read(async () => {
      const events: StoredEvent[] = [];
      const pages = client.listEntities<EventEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, MAX_PAGE) });
      for await (const page of pages) {
        for (const entity of page) events.push(fromEntity(entity as TableEntity<EventEntity>, key));
      }
      return events.sort((a, b) => a.sequence - b.sequence);
    });
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

  /**
   * Table Storage returns entities in PartitionKey order, which is not code point order where keys hold
   * escaped characters (nor for long keys), and Cosmos DB in no set order; the keys under a prefix are
   * in one PartitionKey range, so the prefix's heads are read and sorted here. The cost grows with the
   * number of streams under the prefix.
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
        // In PartitionKey order a head past the prefix ends it; in Cosmos DB's order it does not.
        if (service === 'storage' && inRange.length < page.length) break;
      }
      return keys
        .filter((key) => key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0))
        .sort(compareKeys)
        .slice(0, limit);
    });
  }

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
    checkSequence: async (key, sequence) => (await pointRead(key, rowKey(sequence))) !== undefined,
    lastSequence: async (key) => Number((await pointRead<HeadEntity>(key, HEAD_ROW))?.last ?? 0),
    fetchEvents,
    putEvents,
    listKeys,
    close: async () => {},
  };
}
