import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { Client } from 'cassandra-driver';
import { createCassandraDriver } from '@keyvent/cassandra';
import { registerConformanceSuite } from '@keyvent/conformance';
import type { RunningBackend } from '@keyvent/testing';
import { cassandraForTests } from './backend.js';

let backend: RunningBackend<'cassandra'>;
let client: Client;
let keyspace: string;

beforeAll(async () => {
  ({ backend, client, keyspace } = await cassandraForTests());
}, 180_000);
afterAll(async () => {
  await client?.shutdown();
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'cassandra',
  createDriver: () => createCassandraDriver({ client, keyspace }),
});
