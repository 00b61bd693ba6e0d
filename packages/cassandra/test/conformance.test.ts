import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'cassandra-driver';
import { createCassandraDriver } from '@keyvent/cassandra';
import { registerConformanceSuite } from '@keyvent/conformance';
import { cassandraClusterForTests } from './backend.js';

// On a three-node cluster at replication factor 3, QUORUM and SERIAL (the driver's defaults), as in
// production: a single node makes every quorum one replica and Paxos never waits for a peer.
let cluster: Awaited<ReturnType<typeof cassandraClusterForTests>>['cluster'];
let client: Client;
let keyspace: string;

beforeAll(async () => {
  ({ cluster, client, keyspace } = await cassandraClusterForTests());
}, 240_000);
afterAll(async () => {
  await client?.shutdown();
  await cluster?.stop();
}, 60_000);

it('runs on three live nodes, with the keyspace on three replicas', async () => {
  expect(client.hosts.values().filter((host) => host.isUp())).toHaveLength(3);
  const row = (await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace])).first();
  expect(row.get('replication')).toMatchObject({ replication_factor: '3' });
});

// Not the `faults` concern: through the fault proxy, cassandra-driver 4.10 is not stable enough to test
// keyvent with. A reset that meets its control connection's refresh throws a TypeError from inside the
// driver ("Cannot read properties of null (reading 'endpoint')", control-connection.js), and after many
// resets the client keeps the process alive past shutdown(). cluster-faults.test.ts kills nodes instead.
registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'cassandra (3 nodes, RF 3)',
  createDriver: () => createCassandraDriver({ client, keyspace }),
});
