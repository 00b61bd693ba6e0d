import { randomUUID } from 'node:crypto';
import { Client, type ClientOptions } from 'cassandra-driver';
import { createCassandraSchema } from '@keyvent/cassandra';
import { startBackend, type RunningBackend } from '@keyvent/testing';

/** Starts (or finds) a real Cassandra and makes a fresh keyspace on it. */
export async function cassandraForTests(extra: Partial<ClientOptions> = {}) {
  const backend = await startBackend('cassandra');
  console.info(`cassandra backend: ${backend.description} (${backend.source}), ready in ${backend.startMs} ms`);
  try {
    const clientOptions: ClientOptions = { ...backend.connection, ...extra };
    const client = new Client(clientOptions);
    const keyspace = `keyvent_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    await createCassandraSchema(client, { keyspace });
    return { backend: backend as RunningBackend<'cassandra'>, client, keyspace, clientOptions };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}
