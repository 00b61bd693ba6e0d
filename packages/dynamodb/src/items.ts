import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { directoryShardOf, FEED_START, feedPosition, type FeedRecord, type PutEventsOptions, type StoredEvent } from '@keyvent/core';

/** The attribute names of an event item. Short, because names count towards the 400 KB item size. */
export const attributes = {
  key: 'pk',
  sequence: 'sk',
  type: 'ty',
  data: 'da',
  id: 'id',
  timestamp: 'ts',
  metadata: 'md',
  /** Set only on a stream's first event: its listing shard, the partition key of the sparse index of stream keys. */
  listed: 'ls',
  /** The change feed: the feed partition (the slice's top 6 bits), the event's position, the stream's slice. */
  feedPartition: 'fp',
  position: 'fx',
  slice: 'sl',
} as const;

export const FEED_INDEX = 'feed';
/** The feed partition of a slice: 64 index partition key values, so that no one GSI partition takes every commit's write. */
export const feedPartitionOf = (slice: number): number => slice >> 4;

export const LISTING_INDEX = 'streams';
/**
 * The listing index's partition key values: 16 shards by a hash of the stream key, so that new streams
 * spread over 16 index partitions (each takes about 1,000 writes a second) instead of one.
 */
export const LISTING_SHARDS = 16;
export const listingShard = (shard: number): AttributeValue => ({ S: `s${String(shard).padStart(2, '0')}` });
/** The listing shard (`ls`) of a stream's first event. */
export const listingShardOf = (key: string): AttributeValue => listingShard(directoryShardOf(key, LISTING_SHARDS));

/**
 * The storage layout this version reads and writes: 2 has the 16 listing shards. It is kept in the item
 * at sequence 0 (which no event has) of the stream `keyvent:layout`, attribute `lv`.
 */
export const LAYOUT_VERSION = '2';
export const layoutItemKey = (): Record<string, AttributeValue> => itemKey('keyvent:layout', 0);

export const itemKey = (key: string, sequence: number): Record<string, AttributeValue> => ({
  [attributes.key]: { S: key },
  [attributes.sequence]: { N: String(sequence) },
});

export function toItem(event: StoredEvent, feed?: PutEventsOptions['feed']): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    ...itemKey(event.key, event.sequence),
    [attributes.type]: { S: event.type },
    [attributes.data]: { S: JSON.stringify(event.data) },
    [attributes.id]: { S: event.id },
    [attributes.timestamp]: { S: event.timestamp },
  };
  if (event.metadata !== undefined) item[attributes.metadata] = { S: JSON.stringify(event.metadata) };
  if (event.sequence === 1) item[attributes.listed] = listingShardOf(event.key);
  if (feed) {
    item[attributes.feedPartition] = { N: String(feedPartitionOf(feed.slice)) };
    item[attributes.position] = { S: feedPosition(feed.stamp, feed.hash, event.sequence) };
    item[attributes.slice] = { N: String(feed.slice) };
  }
  return item;
}

export function fromItem(item: Record<string, AttributeValue>): StoredEvent {
  const event: StoredEvent = {
    key: item[attributes.key]!.S!,
    sequence: Number(item[attributes.sequence]!.N),
    type: item[attributes.type]!.S!,
    data: JSON.parse(item[attributes.data]!.S!),
    id: item[attributes.id]!.S!,
    timestamp: item[attributes.timestamp]!.S!,
  };
  const metadata = item[attributes.metadata]?.S;
  if (metadata !== undefined) event.metadata = JSON.parse(metadata);
  return event;
}

export const recordOf = (item: Record<string, AttributeValue>): FeedRecord => ({ event: fromItem(item), position: item[attributes.position]?.S ?? FEED_START });

/** The consumers' checkpoint table that goes with an events table, unless named otherwise. */
export const defaultCheckpointTable = (tableName: string): string => `${tableName}-feed`;
