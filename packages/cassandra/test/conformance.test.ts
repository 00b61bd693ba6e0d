import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { policies, type Client } from 'cassandra-driver';
import { createCassandraDriver } from '@keyvent/cassandra';
import { registerConformanceSuite } from '@keyvent/conformance';
import { proxyBackend, type CassandraConnection, type FaultProxy, type RunningBackend } from '@keyvent/testing';
import { cassandraForTests } from './backend.js';

let backend: RunningBackend<'cassandra'>;
let client: Client;
let keyspace: string;
let proxy: FaultProxy;
let proxied: CassandraConnection;

beforeAll(async () => {
  ({ backend, client, keyspace } = await cassandraForTests());
  ({ proxy, connection: proxied } = await proxyBackend('cassandra', backend.connection));
}, 180_000);
afterAll(async () => {
  await client?.shutdown();
  await proxy?.close();
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'cassandra',
  createDriver: () => createCassandraDriver({ client, keyspace }),
  faults: {
    // The node reconnects 100 ms after a reset (the default waits a second, longer than the core's retries).
    createDriver: () =>
      createCassandraDriver({
        keyspace,
        clientOptions: { ...proxied, policies: { reconnection: new policies.reconnection.ConstantReconnectionPolicy(100) } },
      }),
    injector: () => proxy,
  },
});
