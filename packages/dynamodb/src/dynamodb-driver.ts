import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type CancellationReason,
  type DynamoDBClientConfig,
  type QueryCommandInput,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import {
  compareKeys,
  ConcurrencyError,
  DriverError,
  FEED_START,
  runBackendRequest,
  type CheckpointRow,
  type DriverFeed,
  type FeedReadOptions,
  type KeyValueDriver,
  pageBudget,
  type FetchOptions,
  layoutCheck,
  type ListKeysOptions,
  listShardedKeys,
  type PutEventsOptions,
  type ShardPage,
  type ShardRange,
  type StoredEvent,
} from '@keyvent/core';
import { readLayout } from './create-table.js';
import { attributes, defaultCheckpointTable, FEED_INDEX, feedPartitionOf, fromItem, itemKey, LAYOUT_VERSION, LISTING_INDEX, LISTING_SHARDS, listingShard, recordOf, toItem } from './items.js';

export interface DynamoDbDriverOptions {
  /** The table, made by `createDynamoDbTable` (or to the same design). */
  tableName: string;
  /** Your own client; the driver never destroys it. */
  client?: DynamoDBClient;
  /** Settings for a client the driver creates (and destroys on close), when `client` is not given. */
  clientConfig?: DynamoDBClientConfig;
  /** The consumers' checkpoint table, made by `createDynamoDbTable`. Default `<tableName>-feed`. */
  checkpointTableName?: string;
  /** Keep the change feed (its index and checkpoint rows). Default true; false writes no index (for stores that need no feed, and to measure its cost). */
  feed?: boolean;
}

const NAME = 'dynamodb';
const NOT_EXISTS = `attribute_not_exists(${attributes.key})`;

/**
 * A driver on Amazon DynamoDB: one item per event. A commit is one `TransactWriteItems` (a conditional
 * `PutItem` for a single event that needs no prior check): every put is conditional on its item not
 * existing, and a `ConditionCheck` that the prior event exists makes a caller's version one round trip.
 *
 * @example
 * ```ts
 * const client = new DynamoDBClient({ region: 'eu-west-1' });
 * await createDynamoDbTable(client, 'events');
 * const store = createStore(createDynamoDbDriver({ client, tableName: 'events' }));
 * ```
 */
export function createDynamoDbDriver(options: DynamoDbDriverOptions): KeyValueDriver {
  const { tableName } = options;
  const checkpointTable = options.checkpointTableName ?? defaultCheckpointTable(tableName);
  const sdk = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
  const owned = !options.client;
  // Every request through one place: a failure the SDK gave up on that another try may cure is retryable.
  const client = { send: ((command: Parameters<DynamoDBClient['send']>[0]) => runBackendRequest(NAME, 'a request', () => sdk.send(command), isTransient)) as DynamoDBClient['send'] };

  const checkLayout = layoutCheck(NAME, LAYOUT_VERSION, tableName, () => readLayout(client, tableName));

  async function putEvents(events: readonly StoredEvent[], putOptions?: PutEventsOptions): Promise<void> {
    await checkLayout();
    const first = events[0]!;
    // A refused put returns the item in its way (ALL_OLD): its id says, with no extra read, whether the
    // refusal met this commit's own first copy (the SDK resends a request whose reply was lost).
    const conflict = (cause: unknown, storedIds?: string[]) =>
      new ConcurrencyError(first.key, first.sequence - 1, undefined, { cause, driver: NAME, storedIds });
    if (events.length === 1 && !putOptions?.checkPrior) {
      try {
        await client.send(new PutItemCommand({ TableName: tableName, Item: toItem(first, putOptions?.feed), ConditionExpression: NOT_EXISTS, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
        return;
      } catch (error) {
        throw translatePutFailure(error, conflict);
      }
    }
    const actions: TransactWriteItem[] = events.map((event) => ({
      Put: { TableName: tableName, Item: toItem(event, putOptions?.feed), ConditionExpression: NOT_EXISTS, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
    }));
    if (putOptions?.checkPrior) {
      const prior = itemKey(first.key, first.sequence - 1);
      actions.push({ ConditionCheck: { TableName: tableName, Key: prior, ConditionExpression: `attribute_exists(${attributes.key})` } });
    }
    try {
      await client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
    } catch (error) {
      throw translateCancellation(error, conflict, events.length);
    }
  }

  function fetchEvents(key: string, afterSequence: number, limit: number, options?: FetchOptions): Promise<StoredEvent[]> {
    const budget = pageBudget(options?.maxBytes);
    return fetchItems(key, afterSequence, limit, fromItem, (event) => budget.add(event));
  }

  async function fetchItems<T>(
    key: string,
    afterSequence: number,
    limit: number,
    decode: (item: Record<string, AttributeValue>) => T,
    full?: (item: T) => boolean,
  ): Promise<T[]> {
    const events: T[] = [];
    const input: QueryCommandInput = {
      TableName: tableName,
      KeyConditionExpression: '#k = :k AND #s > :after',
      ExpressionAttributeNames: { '#k': attributes.key, '#s': attributes.sequence },
      ExpressionAttributeValues: { ':k': { S: key }, ':after': { N: String(afterSequence) } },
      ConsistentRead: true,
    };
    // A response stops at 1 MB; keep reading until `limit` events, the page's bytes, or the end of the stream.
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new QueryCommand({ ...input, Limit: limit - events.length, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) {
        const decoded = decode(item);
        events.push(decoded);
        if (full?.(decoded)) return events;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && events.length < limit);
    return events;
  }

  /**
   * One page of the feed: a query per feed partition the slices touch, run together and merged. A
   * partition with more to read bounds the page: nothing past its last item evaluated is returned, as
   * another item of it may sort before the next of the others.
   */
  async function readFeed({ after, upTo, slices: [from, to], limit }: FeedReadOptions) {
    const partitions = Array.from({ length: feedPartitionOf(to) - feedPartitionOf(from) + 1 }, (_, i) => feedPartitionOf(from) + i);
    // A key condition cannot compare with an empty string: from the start, only the upper bound.
    const start = after === FEED_START;
    const values: Record<string, AttributeValue> = { ':upTo': { S: upTo }, ':from': { N: String(from) }, ':to': { N: String(to) } };
    if (!start) values[':after'] = { S: after };
    const pages = await Promise.all(
      partitions.map((partition) =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: FEED_INDEX,
            KeyConditionExpression: start ? '#p = :p AND #x <= :upTo' : '#p = :p AND #x BETWEEN :after AND :upTo',
            // A filter may not name a key attribute: the item at `after` itself comes back, and is dropped below.
            FilterExpression: '#s BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#p': attributes.feedPartition, '#x': attributes.position, '#s': attributes.slice },
            ExpressionAttributeValues: { ...values, ':p': { N: String(partition) } },
            // One more: the item at `after`, if it is in this partition, comes back too.
            Limit: start ? limit : limit + 1,
          }),
        ),
      ),
    );
    let bound = upTo;
    for (const page of pages) {
      const last = page.LastEvaluatedKey?.[attributes.position]?.S;
      if (last !== undefined && last < bound) bound = last;
    }
    const records = pages
      .flatMap((page) => (page.Items ?? []).map(recordOf))
      .filter((record) => record.position > after && record.position <= bound)
      .sort((a, b) => (a.position < b.position ? -1 : 1));
    return { records, reached: bound };
  }

  const feed: DriverFeed = {
    kind: 'stamped',
    read: readFeed,
    fetchRecords: (key, afterSequence, limit) => fetchItems(key, afterSequence, limit, recordOf),
    async restamp(events, positions) {
      await Promise.all(
        events.map((event, i) =>
          client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: itemKey(event.key, event.sequence),
              UpdateExpression: 'SET #x = :x',
              ConditionExpression: '#i = :i',
              ExpressionAttributeNames: { '#x': attributes.position, '#i': attributes.id },
              ExpressionAttributeValues: { ':x': { S: positions[i]! }, ':i': { S: event.id } },
            }),
          ),
        ),
      );
    },
    async loadCheckpoint(name) {
      const { Item } = await client.send(new GetItemCommand({ TableName: checkpointTable, Key: { n: { S: name } }, ConsistentRead: true }));
      return Item ? { name, value: Item.value!.S!, version: Number(Item.v!.N) } : undefined;
    },
    async saveCheckpoint(name, value, version) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: checkpointTable,
            Item: { n: { S: name }, v: { N: String(version) }, value: { S: value } },
            ...(version === 1
              ? { ConditionExpression: 'attribute_not_exists(n)' }
              : { ConditionExpression: 'v = :previous', ExpressionAttributeValues: { ':previous': { N: String(version - 1) } } }),
          }),
        );
        return true;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
    async listCheckpoints() {
      const rows: CheckpointRow[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: checkpointTable, ConsistentRead: true, ExclusiveStartKey: startKey }));
        for (const item of page.Items ?? []) rows.push({ name: item.n!.S!, value: item.value!.S!, version: Number(item.v!.N) });
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return rows.sort((a, b) => compareKeys(a.name, b.name));
    },
  };

  async function lastSequence(key: string): Promise<number> {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#k = :k',
        ExpressionAttributeNames: { '#k': attributes.key, '#s': attributes.sequence },
        ExpressionAttributeValues: { ':k': { S: key } },
        ProjectionExpression: '#s',
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = page.Items?.[0];
    return item ? Number(item[attributes.sequence]!.N) : 0;
  }

  async function checkSequence(key: string, sequence: number): Promise<boolean> {
    const result = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: itemKey(key, sequence),
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': attributes.sequence },
        ConsistentRead: true,
      }),
    );
    return result.Item !== undefined;
  }

  /**
   * Reads the sparse `streams` index, which DynamoDB keeps in UTF-8 byte (code point) order within each
   * of its shards: a page is a merge of one query per shard (see `listShardedKeys`).
   */
  async function listKeys(listOptions: ListKeysOptions): Promise<string[]> {
    await checkLayout();
    return listShardedKeys(LISTING_SHARDS, readListingShard, listOptions);
  }

  async function readListingShard(shard: number, { prefix, after }: ShardRange, limit: number): Promise<ShardPage> {
    const names: Record<string, string> = { '#l': attributes.listed };
    const values: Record<string, AttributeValue> = { ':l': listingShard(shard) };
    if (prefix) {
      names['#k'] = attributes.key;
      values[':p'] = { S: prefix };
    }
    // `after` is under the prefix (the merge sees to it): DynamoDB refuses a start key outside the key condition.
    let startKey: Record<string, AttributeValue> | undefined = after === undefined ? undefined : { [attributes.listed]: listingShard(shard), ...itemKey(after, 1) };
    const keys: string[] = [];
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: LISTING_INDEX,
          KeyConditionExpression: prefix ? '#l = :l AND begins_with(#k, :p)' : '#l = :l',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          Limit: limit - keys.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) keys.push(item[attributes.key]!.S!);
      startKey = page.LastEvaluatedKey;
    } while (startKey && keys.length < limit);
    return { keys, next: startKey && keys[keys.length - 1] };
  }

  let closed = false;
  return {
    name: NAME,
    // 100 actions per transaction, one kept for the prior check; 400 KB items and 4 MB transactions,
    // less what the key, id, timestamp and attribute names take.
    limits: { maxEventsPerCommit: 99, maxEventBytes: 400 * 1024 - 4096, maxCommitBytes: 3_500_000 },
    atomicPriorCheck: true,
    preferredPageSize: 1000,
    // The listing index is a global secondary index, which DynamoDB updates after the write, "usually
    // within a fraction of a second" but with no bound it guarantees (see the README).
    listingDelayMs: 1000,
    ...(options.feed === false ? {} : { feed }),
    checkSequence,
    fetchEvents,
    putEvents,
    lastSequence,
    listKeys,
    close: async () => {
      if (owned && !closed) sdk.destroy();
      closed = true;
    },
  };
}

/** Connection failures, timeouts, throttling and 5xx answers: worth another try once the SDK has given up. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
const TRANSIENT_NAMES = new Set([
  'TimeoutError', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded',
  'InternalServerError', 'ServiceUnavailable', 'LimitExceededException',
]);

function isTransient(error: unknown): boolean {
  const { name, code, $retryable, $metadata } = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  return (
    $retryable !== undefined || TRANSIENT_NAMES.has(name ?? '') || TRANSIENT_CODES.has(code ?? '') || ($metadata?.httpStatusCode ?? 0) >= 500
  );
}

type Conflict = (cause: unknown, storedIds?: string[]) => ConcurrencyError;

/** Errors of PutItem: a failed condition is a conflict; a clash with a transaction in progress may be retried. */
function translatePutFailure(error: unknown, conflict: Conflict): unknown {
  const name = (error as Error).name;
  if (name === 'ConditionalCheckFailedException') {
    const item = (error as { Item?: Record<string, AttributeValue> }).Item;
    const id = item?.[attributes.id]?.S;
    return conflict(error, id === undefined ? undefined : [id]);
  }
  if (name === 'TransactionConflictException') {
    return new DriverError(NAME, 'the put met a transaction in progress on the same item', { cause: error, retryable: true });
  }
  return error;
}

/** Reasons of a cancelled transaction worth another try: a clash with another transaction, throttling. */
const RETRYABLE_REASONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/** A cancelled transaction: a failed condition is a conflict; a clash with another transaction or throttling may be retried. */
function translateCancellation(error: unknown, conflict: Conflict, count: number): unknown {
  if ((error as Error).name !== 'TransactionCanceledException') return error;
  const reasons: CancellationReason[] = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
  if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return conflict(error, storedIdsOf(reasons, count));
  const retryable = reasons.some((reason) => RETRYABLE_REASONS.has(reason.Code ?? ''));
  const codes = reasons.map((reason) => reason.Code).join(', ');
  return new DriverError(NAME, `the transaction was cancelled (${codes})`, { cause: error, retryable });
}

/**
 * The ids in the way of a cancelled commit's `count` puts, from the items their failed conditions
 * returned: all of them, or none if the first put met no item (the prior check failed); otherwise
 * undefined, and the core reads them.
 */
function storedIdsOf(reasons: CancellationReason[], count: number): string[] | undefined {
  // Only the prior check failed: the prior event is missing, so no copy of this commit can exist.
  const puts = reasons.slice(0, count);
  if (reasons[count]?.Code === 'ConditionalCheckFailed' && puts.every((reason) => reason.Code === 'None')) return [];
  const ids = puts.map((reason) => reason.Item?.[attributes.id]?.S);
  return ids.every((id) => id !== undefined) && ids.length === count ? (ids as string[]) : undefined;
}
