import type { TableEntity, TransactionAction } from '@azure/data-tables';
import { ValidationError, type DriverLimits } from '@keyvent/core';
import { MAX_PARTITION_KEY_UNITS, rowKey } from './keys.js';

/** The service behind the endpoint: Azure Table Storage, or Azure Cosmos DB for Table. */
export type AzureTablesService = 'storage' | 'cosmos';

/** Cosmos DB for Table answers at `<account>.table.cosmos.azure.com` (formerly `.table.cosmosdb.azure.com`). */
export function detectService(url: string): AzureTablesService {
  return /\.table\.cosmos(db)?\./i.test(new URL(url).hostname) ? 'cosmos' : 'storage';
}

/**
 * What each service accepts. Table Storage: 1 MiB per entity (by its size formula, {@link entityBytes}),
 * 4 MiB per batch request. Cosmos DB for Table: 2 MB per batch; its entities are held here to Table
 * Storage's formula, stricter than its own 2 MB item.
 */
export const SERVICE_LIMITS: Record<AzureTablesService, { entityBytes: number; requestBytes: number }> = {
  storage: { entityBytes: 1024 * 1024, requestBytes: 4 * 1024 * 1024 },
  cosmos: { entityBytes: 1024 * 1024, requestBytes: 2_000_000 },
};

/** 100 operations per transaction, less the prior check and the head. */
export const MAX_EVENTS_PER_COMMIT = 98;

/**
 * The size of an entity as Azure counts it against the entity limit: 4 bytes, the keys in UTF-16, and
 * per property 8 bytes, its name in UTF-16 and its value (a string: UTF-16 and 4 bytes; a number: 8,
 * an Int32's 4 rounded up).
 */
export function entityBytes(entity: TableEntity<object>): number {
  let size = 4 + 2 * (entity.partitionKey.length + entity.rowKey.length);
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'partitionKey' || name === 'rowKey') continue;
    size += 8 + 2 * name.length + (typeof value === 'string' ? 2 * value.length + 4 : 8);
  }
  return size;
}

/**
 * The SDK sends a transaction as one multipart body: per operation a changeset part with an HTTP
 * request line (the table's URL, and for an update or upsert the keys, percent-encoded) and headers,
 * then the entity as JSON, in UTF-8. The framing is bounded from above (@azure/data-tables 13.3.2 sends
 * about 200 bytes per part besides the URL and 150 for the batch); the test compares with what is sent.
 */
const OPERATION_FRAME_BYTES = 512;
const BATCH_FRAME_BYTES = 512;
/** A UTF-16 unit of a key is at most 3 bytes of UTF-8, 9 once percent-encoded. */
const URL_BYTES_PER_KEY_UNIT = 9;
const KEY_PREDICATE_BYTES = 32; // (PartitionKey='',RowKey='')

/** Bytes of the request body the SDK sends for one operation of a transaction (an upper bound). */
export function operationBytes(tableUrl: string, [kind, entity]: TransactionAction): number {
  const keysInUrl = kind === 'create' ? 0 : KEY_PREDICATE_BYTES + URL_BYTES_PER_KEY_UNIT * (entity.partitionKey.length + entity.rowKey.length);
  // The SDK renames partitionKey and rowKey to PartitionKey and RowKey: the same length.
  return OPERATION_FRAME_BYTES + Buffer.byteLength(tableUrl) + keysInUrl + Buffer.byteLength(JSON.stringify(entity));
}

/** Bytes of the request body the SDK sends for a transaction (an upper bound). */
export const transactionBytes = (tableUrl: string, actions: readonly TransactionAction[]): number =>
  actions.reduce((total, action) => total + operationBytes(tableUrl, action), BATCH_FRAME_BYTES);

/**
 * Refuses, before anything is sent, a commit the service would refuse for its size: an event whose
 * entity passes the entity limit, or a request that passes the batch limit. `actions` are the
 * commit's: the events' creates first, then the prior check and the head.
 */
export function assertTransactionFits(actions: readonly TransactionAction[], eventCount: number, tableUrl: string, service: AzureTablesService): void {
  const limits = SERVICE_LIMITS[service];
  let total = BATCH_FRAME_BYTES;
  actions.forEach((action, i) => {
    const size = entityBytes(action[1]);
    if (size > limits.entityBytes) {
      throw new ValidationError(
        `events[${i}]`,
        `is ${size} bytes as an Azure Tables entity (text counts 2 bytes per UTF-16 unit); the service stores at most ${limits.entityBytes}`,
      );
    }
    const bytes = operationBytes(tableUrl, action);
    total += bytes;
    if (total > limits.requestBytes) {
      const where = i < eventCount ? `events[${i}] (${bytes} bytes of it)` : 'the prior check and the head';
      throw new ValidationError(
        'events',
        `the commit would send ${total}+ bytes, over the ${service === 'cosmos' ? 'Cosmos DB' : 'Table Storage'} limit of ` +
          `${limits.requestBytes} per transaction, passed at ${where}; commit fewer events`,
      );
    }
  });
}

/**
 * The worst text: U+2028 and U+2029 count 3 bytes in the core's UTF-8 JSON, are stored as `\u2028`
 * (6 UTF-16 units: 12 bytes of entity) and sent as `\\u2028` (7 bytes). Other text costs less: at most
 * 2 bytes of entity and 2 on the wire per byte counted (`"` and `\` are escaped twice).
 */
const ENTITY_BYTES_PER_COUNTED_BYTE = 4;
const WIRE_BYTES_PER_COUNTED_BYTE = 7 / 3;
/** What the core does not count in a payload: the id (256 characters, 6 units each at worst in JSON) and timestamp. */
const UNCOUNTED_PAYLOAD_UNITS = 2048;
const UNCOUNTED_PAYLOAD_WIRE_BYTES = 2048;
/** Payload chunks an event can take (32,000 units each); each is a property. */
const MAX_CHUNKS = 40;
const KEY_UNITS = MAX_PARTITION_KEY_UNITS + rowKey(1).length;
/** The feed position on each event entity (`fx`): 44 hex digits (stamp 14, key hash 16, sequence 14). */
const POSITION_LENGTH = 44;
const POSITION_ENTITY_BYTES = 8 + 2 * 'fx'.length + 2 * POSITION_LENGTH + 4;
const POSITION_JSON_BYTES = ',"fx":""'.length + POSITION_LENGTH;
/** The JSON of an entity besides its keys' and chunks' values: `{"partitionKey":"","rowKey":"","pn":40}`, the chunk names, the position. */
const ENTITY_JSON_BYTES = 64 + MAX_CHUNKS * 10 + POSITION_JSON_BYTES;
/** A key is at most 1,024 bytes of UTF-8 (the core's rule), at most 3 bytes each once escaped: the head's `k`. */
const HEAD_KEY_BYTES = 3 * 1024 + 64;

/**
 * The limits declared to the core, which counts an event as the UTF-8 JSON of its type, data and
 * metadata: what surely fits the service at the worst text, the longest keys and ids, the feed
 * positions, and 98 events.
 */
export function declaredLimits(service: AzureTablesService, tableUrl: string): Required<DriverLimits> {
  const limits = SERVICE_LIMITS[service];
  const entityOverhead = 4 + 2 * KEY_UNITS + (8 + 4 + 8) + MAX_CHUNKS * (8 + 6 + 4) + POSITION_ENTITY_BYTES + 2 * UNCOUNTED_PAYLOAD_UNITS;
  const url = Buffer.byteLength(tableUrl);
  const keyJson = 3 * KEY_UNITS;
  const perEvent = OPERATION_FRAME_BYTES + url + ENTITY_JSON_BYTES + keyJson + UNCOUNTED_PAYLOAD_WIRE_BYTES;
  const keyedOperation = OPERATION_FRAME_BYTES + url + KEY_PREDICATE_BYTES + URL_BYTES_PER_KEY_UNIT * KEY_UNITS + ENTITY_JSON_BYTES + keyJson;
  const perCommit = BATCH_FRAME_BYTES + 2 * keyedOperation + HEAD_KEY_BYTES;
  const maxCommitBytes = Math.floor((limits.requestBytes - perCommit - MAX_EVENTS_PER_COMMIT * perEvent) / WIRE_BYTES_PER_COUNTED_BYTE);
  const maxEventBytes = Math.min(Math.floor((limits.entityBytes - entityOverhead) / ENTITY_BYTES_PER_COUNTED_BYTE), maxCommitBytes);
  return { maxEventsPerCommit: MAX_EVENTS_PER_COMMIT, maxEventBytes, maxCommitBytes };
}
