import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'cassandra-driver';
import { createCassandraDriver } from '@keyvent/cassandra';
import { registerConformanceSuite } from '@keyvent/conformance';
import { cassandraClusterForTests, proxiedCluster } from './backend.js';

// On a three-node cluster at replication factor 3, QUORUM and SERIAL (the driver's defaults), as in
// production: a single node makes every quorum one replica and Paxos never waits for a peer.
let cluster: Awaited<ReturnType<typeof cassandraClusterForTests>>['cluster'];
let client: Client;
let keyspace: string;
let proxied: Awaited<ReturnType<typeof proxiedCluster>>;

beforeAll(async () => {
  ({ cluster, client, keyspace } = await cassandraClusterForTests());
  proxied = await proxiedCluster(cluster.connection);
}, 600_000);
afterAll(async () => {
  await client?.shutdown();
  await proxied?.proxy.close();
  await cluster?.stop();
}, 60_000);

it('runs on three live nodes, with the keyspace on three replicas', async () => {
  expect(client.hosts.values().filter((host) => host.isUp())).toHaveLength(3);
  const row = (await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace])).first();
  expect(row.get('replication')).toMatchObject({ replication_factor: '3' });
});

// The `faults` concern goes through a proxy in front of each node: a lost request or reply resets the
// connection to the node the query plan chose, and the client's next try goes to another node.
registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'cassandra (3 nodes, RF 3)',
  createDriver: () => createCassandraDriver({ client, keyspace }),
  faults: {
    createDriver: () => createCassandraDriver({ clientOptions: proxied.clientOptions, keyspace }),
    injector: () => proxied.proxy,
  },
});
