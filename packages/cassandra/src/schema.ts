import { types, type Client } from 'cassandra-driver';
import { bucketOf, FEED_START_ROW } from './feed.js';
import { StoreLayoutError, ValidationError } from '@keyvent/core';

export interface CassandraSchemaOptions {
  keyspace: string;
  /** Default `events`. */
  table?: string;
  /** The keyspace's replication, as CQL. Default `{'class': 'SimpleStrategy', 'replication_factor': 1}`: set yours for production. */
  replication?: string;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
// Feed tables add up to 10 characters to the events table's name: `<table>_consumers`.

/** Refuses a keyspace or table name that is not a plain CQL identifier (so names are never injected). */
export function assertIdentifier(value: string, path: string): void {
  if (!IDENTIFIER.test(value)) throw new ValidationError(path, `${JSON.stringify(value)} is not a CQL identifier: a letter, then up to 47 letters, digits or _`);
}

/** `keyspace.table`, checked. */
export function qualifiedTable(keyspace: string, table: string): string {
  assertIdentifier(keyspace, 'keyspace');
  assertIdentifier(table, 'table');
  return `${keyspace}.${table}`;
}

/**
 * Creates the keyspace (if missing) and the events table: one row per event in the stream's partition,
 * ordered by sequence, with the stream's last sequence in the static column `head` and the size classes
 * of its commits' largest events in `sizes` (for read pages bounded in bytes); the feed's tables, the
 * stream directory, and the layout version.
 *
 * @example
 * ```ts
 * await createCassandraSchema(client, { keyspace: 'app', replication: "{'class': 'NetworkTopologyStrategy', 'dc1': 3}" });
 * ```
 */
export async function createCassandraSchema(client: Client, options: CassandraSchemaOptions): Promise<void> {
  const table = qualifiedTable(options.keyspace, options.table ?? 'events');
  const replication = options.replication ?? "{'class': 'SimpleStrategy', 'replication_factor': 1}";
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${options.keyspace} WITH replication = ${replication}`);
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${table} (
      key text, seq bigint, head bigint static, sizes set<int> static,
      type text, data text, id text, ts text, meta text, fx text,
      PRIMARY KEY (key, seq)
    ) WITH CLUSTERING ORDER BY (seq ASC)`,
  );
  await addColumn(client, table, 'fx text');
  await addColumn(client, table, 'sizes set<int> static');
  const { feedTable, checkpointTable, directoryTable } = companionTables(options.keyspace, options.table ?? 'events');
  await client.execute(`CREATE TABLE IF NOT EXISTS ${directoryTable} (shard int, key text, pending boolean, PRIMARY KEY (shard, key)) WITH CLUSTERING ORDER BY (key ASC)`);
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${feedTable} (
      fp int, bucket bigint, fx text, k text, n int, sl int, i text,
      PRIMARY KEY ((fp, bucket), fx)
    ) WITH CLUSTERING ORDER BY (fx ASC)`,
  );
  await client.execute(`CREATE TABLE IF NOT EXISTS ${checkpointTable} (name text PRIMARY KEY, v bigint, value text)`);
  // Where the feed begins, for consumers that start at its start: the hour before the schema was made (a
  // writer whose clock runs behind stamps into it), kept if already there.
  const quorum = { prepare: true, consistency: types.consistencies.quorum };
  await client.execute(`INSERT INTO ${checkpointTable} (name, v, value) VALUES (?, 0, ?) IF NOT EXISTS`, [FEED_START_ROW, String(bucketOf(Date.now() * 1000) - 1)], quorum);
  const layout = await client.execute(`INSERT INTO ${checkpointTable} (name, v, value) VALUES (?, 0, ?) IF NOT EXISTS`, [LAYOUT_ROW, LAYOUT_VERSION], quorum);
  const found = layout.wasApplied() ? LAYOUT_VERSION : (layout.first()?.get('value') as string | null);
  if (found !== LAYOUT_VERSION) throw new StoreLayoutError('cassandra', found ?? undefined, LAYOUT_VERSION, table);
}

/**
 * The storage layout this version reads and writes, kept in the consumers' table's row `layout`: 2 has
 * the sharded stream directory (`<table>_streams`) and the feed tables.
 */
export const LAYOUT_VERSION = '2';
export const LAYOUT_ROW = 'layout';

/** The tables that go with an events table: the feed's index, the consumers' checkpoints (and the layout row), the stream directory. */
export function companionTables(keyspace: string, table: string) {
  return {
    feedTable: qualifiedTable(keyspace, `${table}_feed`),
    checkpointTable: qualifiedTable(keyspace, `${table}_consumers`),
    directoryTable: qualifiedTable(keyspace, `${table}_streams`),
  };
}

/** Adds a column to a table made by an earlier version (a no-op when it is there). */
async function addColumn(client: Client, table: string, column: string) {
  try {
    await client.execute(`ALTER TABLE ${table} ADD ${column}`);
  } catch (error) {
    if (!/already exists|conflicts with an existing column/i.test((error as Error).message)) throw error;
  }
}
