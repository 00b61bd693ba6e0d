import type { Client, QueryOptions } from 'cassandra-driver';
import { directoryShardOf, listShardedKeys, prefixEnd, type ListKeysOptions, type ShardPage, type ShardRange } from '@keyvent/core';

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

/** Pending entries a shard read checks at once: with 64 shards read together, at most 512 reads in flight. */
const CHECK_CONCURRENCY = 8;

/**
 * The stream directory on Cassandra. A commit's conditional batch must stay in the stream's partition, so
 * the directory cannot join it: a stream's first commit writes its entry, pending, before the batch.
 * Listing checks a pending entry against the events, and confirms it when the stream has its first event:
 * a stream whose first commit failed is never listed, and one whose first commit was acknowledged is
 * listed at once (its entry was written before it). An append pays one write, made alongside the feed's
 * entry; the first listing to meet a new stream pays a read and a write for it.
 */
export function createCassandraDirectory({ client, directoryTable, read, run, exists }: CassandraDirectoryOptions) {
  const write = (key: string, pending: boolean) =>
    run('the stream directory', () =>
      client.execute(`INSERT INTO ${directoryTable} (shard, key, pending) VALUES (?, ?, ?)`, [directoryShardOf(key, DIRECTORY_SHARDS), key, pending], read),
    );

  async function readShard(shard: number, { prefix, after }: ShardRange, limit: number): Promise<ShardPage> {
    const end = prefixEnd(prefix);
    const query = `SELECT key, pending FROM ${directoryTable} WHERE shard = ? AND key ${after === undefined ? '>=' : '>'} ?${end === undefined ? '' : ' AND key < ?'} LIMIT ?`;
    const params = [shard, after ?? prefix, ...(end === undefined ? [] : [end]), limit];
    const { rows } = await run('listing', () => client.execute(query, params, { ...read, fetchSize: limit }));
    const keys: string[] = [];
    for (let i = 0; i < rows.length; i += CHECK_CONCURRENCY) {
      const chunk = rows.slice(i, i + CHECK_CONCURRENCY).map((row) => ({ key: row.get('key') as string, pending: row.get('pending') === true }));
      const listed = await Promise.all(chunk.map(({ key, pending }) => (pending ? confirmIfExists(key) : true)));
      keys.push(...chunk.filter((_, j) => listed[j]).map(({ key }) => key));
    }
    return { keys, next: rows.length === limit ? (rows[rows.length - 1]!.get('key') as string) : undefined };
  }

  async function confirmIfExists(key: string): Promise<boolean> {
    if (!(await exists(key))) return false;
    await write(key, false);
    return true;
  }

  return {
    /** Before a stream's first commit: its entry, pending. */
    claim: (key: string) => write(key, true),
    listKeys: (options: ListKeysOptions) => listShardedKeys(DIRECTORY_SHARDS, readShard, options),
  };
}
