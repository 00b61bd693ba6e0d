import { odata, type TableClient } from '@azure/data-tables';
import { stampOf } from '@keyvent/core';
import { encodeKey } from './keys.js';
import type { AzureTablesService } from './limits.js';
import { serviceCode } from './service-errors.js';

/**
 * The layout of the feed table, `<table>feed` by default (Azure table names are alphanumeric):
 *
 * | entity | PartitionKey | RowKey | properties |
 * |---|---|---|---|
 * | an index entry | `f<feed partition, 2 hex>-<yyyymmdd of the stamp, UTC>` | the position of the commit's first event | `k`, `n`, `s`, `i` ({@link IndexEntity}) |
 * | where the feed starts | `meta` | `start` | `day` |
 * | a consumer's checkpoint | `c` | the encoded name (long form as for stream keys) | `n`, `v`, `pn`, `p0`… |
 */
export const defaultFeedTableName = (tableName: string): string => `${tableName}feed`;

/** 16 feed partitions, by the top 4 bits of the slice: each is written at 1/16 of the load. */
export const feedPartitionOf = (slice: number): number => slice >> 6;

/**
 * An index entry: a commit attempt's claim to sit at a position. It is written before the commit (which
 * must stay in the stream's partition), so it counts only once the stored events show it: the event at
 * the first sequence must carry the id `i`.
 */
export type IndexEntity = {
  partitionKey: string;
  /** The position of the commit's first event: RowKey order is position order. */
  rowKey: string;
  /** The stream key, encoded as keys.ts encodes PartitionKeys (control characters are escaped). */
  k: string;
  /** How many events the commit holds. */
  n: number;
  /** The stream's slice, for the consumers' ranges. */
  s: number;
  /** The first event's id: which commit the entry stands for. */
  i: string;
  /** Set once the service refused the commit: dead at once, rather than pending until D. */
  x?: boolean;
};

export const META_PARTITION = 'meta';
export const START_ROW = 'start';
export const CHECKPOINT_PARTITION = 'c';

const DAY_MS = 86_400_000;

/** The UTC day (`yyyymmdd`) of a time in milliseconds since the epoch. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/** The UTC day of the stamp a position (or a commit prefix of one) carries. */
export const dayOfPosition = (position: string): string => dayOf(Math.floor(stampOf(position) / 1000));

/** The days from `from` to `to` (`yyyymmdd`), both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const start = Date.UTC(Number(from.slice(0, 4)), Number(from.slice(4, 6)) - 1, Number(from.slice(6, 8)));
  for (let ms = start, day = from; day <= to; ms += DAY_MS, day = dayOf(ms)) days.push(day);
  return days;
}

/** The PartitionKey of a feed partition's entries on one day; `''` for the day gives the prefix of them all. */
export const indexPartitionKey = (partition: number, day: string): string => `f${partition.toString(16).padStart(2, '0')}-${day}`;

/** The entry of a commit whose first event is `first`, at `position`. */
export function indexEntity(first: { key: string; id: string }, count: number, position: string, slice: number): IndexEntity {
  const day = dayOfPosition(position);
  return { partitionKey: indexPartitionKey(feedPartitionOf(slice), day), rowKey: position, k: encodeKey(first.key), n: count, s: slice, i: first.id };
}

/**
 * The earliest day that holds an entry, or undefined for an empty feed: per feed partition, the first
 * PartitionKey of its range. Table Storage returns entities in PartitionKey order, so the first found
 * is the earliest; Cosmos DB keeps no order, so there every PartitionKey is read (costly on a large
 * feed: the `meta` entity spares it).
 */
export async function earliestDay(client: TableClient, service: AzureTablesService): Promise<string | undefined> {
  const firsts = await Promise.all(
    Array.from({ length: 16 }, async (_, partition) => {
      const prefix = indexPartitionKey(partition, '');
      const filter = odata`PartitionKey gt ${prefix} and PartitionKey lt ${`${prefix.slice(0, -1)}.`}`;
      let earliest: string | undefined;
      const pages = client.listEntities({ queryOptions: { filter, select: ['PartitionKey'] } }).byPage({ maxPageSize: service === 'storage' ? 1 : 1000 });
      for await (const page of pages) {
        for (const entity of page) if (earliest === undefined || entity.partitionKey! < earliest) earliest = entity.partitionKey!;
        if (service === 'storage' && earliest !== undefined) break;
      }
      return earliest?.slice(prefix.length);
    }),
  );
  return firsts.filter((day) => day !== undefined).sort()[0];
}

/**
 * Records where the feed starts, unless recorded already: the earliest day with an entry, or else
 * yesterday (a writer whose clock runs behind may stamp the day before the table was made). A read from
 * the start of the feed begins there.
 */
export async function recordFeedStart(client: TableClient, service: AzureTablesService): Promise<void> {
  const exists = await client.getEntity(META_PARTITION, START_ROW).then(
    () => true,
    (error: unknown) => (serviceCode(error) === 'ResourceNotFound' ? false : Promise.reject(error)),
  );
  if (exists) return;
  const day = (await earliestDay(client, service)) ?? dayOf(Date.now() - DAY_MS);
  await client.createEntity({ partitionKey: META_PARTITION, rowKey: START_ROW, day }).catch((error: unknown) => {
    // Another process recorded it first.
    if (serviceCode(error) !== 'EntityAlreadyExists') throw error;
  });
}
