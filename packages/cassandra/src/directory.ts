import type { Client, QueryOptions } from 'cassandra-driver';
import { createClaimedDirectory, directoryShardOf, prefixEnd, type ShardRange } from '@keyvent/core';

/**
 * The stream directory's shards: 64 partitions by a hash of the key (16 change-feed slices each), so a
 * shard holds 1/64 of the streams (1.6 million rows at 10^8 streams) and a listing page costs 64 small
 * reads, however many streams there are.
 */
export const DIRECTORY_SHARDS = 64;

export interface CassandraDirectoryOptions {
  client: Client;
  /** `<table>_streams`: PRIMARY KEY (shard, key), clustered by key (UTF-8 byte order, which is code point order). */
  directoryTable: string;
  read: QueryOptions;
  run: <T>(what: string, request: () => Promise<T>) => Promise<T>;
  /** Does the stream have its first event? Read at the store's read consistency. */
  exists: (key: string) => Promise<boolean>;
}

/**
 * The stream directory on Cassandra. A commit's conditional batch must stay in the stream's partition, so
 * the directory cannot join it: it is claimed before a stream's first commit and confirmed by listing
 * (see `createClaimedDirectory`). An append to a new stream pays one write, made alongside the feed's entry.
 */
export function createCassandraDirectory({ client, directoryTable, read, run, exists }: CassandraDirectoryOptions) {
  async function readEntries(shard: number, { prefix, after }: ShardRange, limit: number) {
    const end = prefixEnd(prefix);
    const query = `SELECT key, pending FROM ${directoryTable} WHERE shard = ? AND key ${after === undefined ? '>=' : '>'} ?${end === undefined ? '' : ' AND key < ?'} LIMIT ?`;
    const params = [shard, after ?? prefix, ...(end === undefined ? [] : [end]), limit];
    const { rows } = await run('listing', () => client.execute(query, params, { ...read, fetchSize: limit }));
    return rows.map((row) => ({ key: row.get('key') as string, pending: row.get('pending') === true }));
  }

  return createClaimedDirectory({
    shards: DIRECTORY_SHARDS,
    read: readEntries,
    write: (key, pending) =>
      run('the stream directory', () =>
        client.execute(`INSERT INTO ${directoryTable} (shard, key, pending) VALUES (?, ?, ?)`, [directoryShardOf(key, DIRECTORY_SHARDS), key, pending], read),
      ),
    exists,
  });
}
