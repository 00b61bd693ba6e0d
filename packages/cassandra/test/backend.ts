import { randomUUID } from 'node:crypto';
import { Client, type ClientOptions } from 'cassandra-driver';
import { createCassandraSchema } from '@keyvent/cassandra';
import { startPreparedBackend } from '@keyvent/testing';

/** Starts (or finds) a real Cassandra and makes a fresh keyspace on it. */
export function cassandraForTests(extra: Partial<ClientOptions> = {}) {
  return startPreparedBackend('cassandra', async ({ connection }) => {
    const client = new Client({ ...connection, ...extra });
    const keyspace = `keyvent_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    await createCassandraSchema(client, { keyspace });
    return { client, keyspace };
  });
}
