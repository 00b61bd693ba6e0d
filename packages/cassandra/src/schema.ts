import type { Client } from 'cassandra-driver';
import { ValidationError } from '@keyvent/core';

export interface CassandraSchemaOptions {
  keyspace: string;
  /** Default `events`. */
  table?: string;
  /** The keyspace's replication, as CQL. Default `{'class': 'SimpleStrategy', 'replication_factor': 1}`: set yours for production. */
  replication?: string;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

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
 * ordered by sequence, with the stream's last sequence in the static column `head`.
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
      key text, seq bigint, head bigint static,
      type text, data text, id text, ts text, meta text,
      PRIMARY KEY (key, seq)
    ) WITH CLUSTERING ORDER BY (seq ASC)`,
  );
}
