import { randomUUID } from 'node:crypto';
import { Client, tracker, types } from 'cassandra-driver';
import { compareKeys, createStore, directoryShardOf, eventBytes } from '@keyvent/core';
import { createCassandraDriver, createCassandraSchema, DIRECTORY_SHARDS } from '@keyvent/cassandra';
import type { RunningBackend } from '@keyvent/testing';
import { envelopes, type BenchTarget, type Ops } from '@keyvent/cli';

export async function cassandraTarget(server: RunningBackend<'cassandra'>): Promise<BenchTarget> {
  let requests = 0;
  // The typings call RequestTracker an interface; the client checks for an instance of its class.
  const Base = (tracker as unknown as { RequestTracker: new () => object }).RequestTracker;
  class CountingTracker extends Base {
    onSuccess() {
      requests++;
    }
    onError() {
      requests++;
    }
  }
  const client = new Client({ ...server.connection, requestTracker: new CountingTracker() as unknown as tracker.RequestTracker });
  const keyspace = `bench_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  await createCassandraSchema(client, { keyspace });
  const store = createStore(createCassandraDriver({ client, keyspace, feed: false }));
  const table = `${keyspace}.events`;
  const read = { prepare: true, consistency: types.consistencies.quorum };
  const write = { ...read, serialConsistency: types.consistencies.serial };
  const insert = `INSERT INTO ${table} (key, seq, type, data, id, ts, meta) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`;

  async function put(key: string, events: Parameters<Ops['appendNew']>[1], base: number): Promise<boolean> {
    const stored = envelopes(events, base);
    const queries: { query: string; params: unknown[] }[] = stored.map((event) => ({
      query: insert,
      params: [key, event.sequence, event.type, JSON.stringify(event.data), event.id, event.timestamp, null],
    }));
    const last = base + events.length;
    const sizes = [Math.max(10, Math.ceil(Math.log2(Math.max(...stored.map((event) => eventBytes(event))))))];
    queries.push(
      base > 0
        ? { query: `UPDATE ${table} SET head = ?, sizes = sizes + ? WHERE key = ? IF head = ?`, params: [last, sizes, key, base] }
        : { query: `UPDATE ${table} SET head = ?, sizes = sizes + ? WHERE key = ?`, params: [last, sizes, key] },
    );
    // A new stream's directory entry, pending, before its first commit.
    const entry = (pending: boolean) => client.execute(`INSERT INTO ${table}_streams (shard, key, pending) VALUES (?, ?, ?)`, [directoryShardOf(key, DIRECTORY_SHARDS), key, pending], read);
    if (base === 0) await entry(true);
    const applied = (await client.batch(queries, write)).wasApplied();
    // Confirmed once stored, in the background, as the driver does.
    if (base === 0 && applied) void entry(false).catch(() => undefined);
    return applied;
  }

  /** Layout 1's listing: every partition key of the table, sorted here (partitions come back in token order). */
  async function scanKeys(prefix: string, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const row of await client.execute(`SELECT DISTINCT key FROM ${table}`, [], { ...read, fetchSize: 1000 })) {
      const key = row.get('key') as string;
      if (key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0)) keys.push(key);
    }
    return keys.sort(compareKeys);
  }

  const raw: Ops = {
    appendNew: async (key, events) => void (await put(key, events, 0)),
    appendAt: (key, events, base) => put(key, events, base),
    head: async (key) => ((await client.execute(`SELECT head FROM ${table} WHERE key = ? LIMIT 1`, [key], read)).first()?.get('head') as types.Long | null)?.toNumber() ?? 0,
    load: async (key) => {
      let count = 0;
      const result = await client.execute(`SELECT seq, type, data, id, ts, meta FROM ${table} WHERE key = ?`, [key], { ...read, fetchSize: 1000 });
      for await (const row of result) if (JSON.parse(row.get('data') as string) !== undefined) count++;
      return count;
    },
    list: (prefix) => scanKeys(prefix),
    listPage: async (prefix, startAfter, limit) => (await scanKeys(prefix, startAfter)).slice(0, limit),
  };
  return { backend: 'cassandra', description: server.description, store, raw, requests: () => requests,
    rawListing: { how: 'SELECT DISTINCT key over the table, sorted client-side (what layout 1 did)', scans: true },
    feedDrivers: () => ({ on: createCassandraDriver({ client, keyspace }), off: createCassandraDriver({ client, keyspace, feed: false }) }),
    close: async () => (await store.close(), await client.shutdown()) };
}
