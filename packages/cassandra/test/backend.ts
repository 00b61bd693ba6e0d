import { randomUUID } from 'node:crypto';
import { Client, policies, tracker, types, type ClientOptions } from 'cassandra-driver';
import { createCassandraSchema } from '@keyvent/cassandra';
import { startCassandraCluster, startFaultProxies, startPreparedBackend, type CassandraCluster, type FaultProxy } from '@keyvent/testing';

/** What a request tracker is told of a request: its query (CQL, or a batch's queries) and, on failure, the error. */
export interface TrackedRequest {
  query: unknown;
  error?: { code?: number; writeType?: string; message: string };
}

/**
 * A client request tracker that hands every request the client sends (prepares and its own retries
 * included) to `seen`. The typings call RequestTracker an interface; the client checks for an instance
 * of its class, hence the subclass.
 */
export function requestTracker(seen: (request: TrackedRequest) => void): tracker.RequestTracker {
  const Base = (tracker as unknown as { RequestTracker: new () => object }).RequestTracker;
  class Tracker extends Base {
    onSuccess(_host: unknown, query: unknown): void {
      seen({ query });
    }
    onError(_host: unknown, query: unknown, _parameters: unknown, _options: unknown, _length: unknown, error: TrackedRequest['error']): void {
      seen({ query, error });
    }
  }
  return new Tracker() as unknown as tracker.RequestTracker;
}

const freshKeyspace = () => `keyvent_${randomUUID().replaceAll('-', '').slice(0, 20)}`;

/** Starts (or finds) a real Cassandra and makes a fresh keyspace on it. */
export function cassandraForTests(extra: Partial<ClientOptions> = {}) {
  return startPreparedBackend('cassandra', async ({ connection }) => {
    const client = new Client({ ...connection, ...extra });
    const keyspace = freshKeyspace();
    await createCassandraSchema(client, { keyspace });
    return { client, keyspace };
  });
}

/**
 * A Cassandra cluster as production runs it: three nodes started here on 127.0.0.1-3 (or the cluster
 * that KEYVENT_CASSANDRA_CONTACT_POINTS names), and a fresh keyspace replicated to three of them (or to
 * every node of a smaller cluster).
 */
export async function cassandraClusterForTests(extra: Partial<ClientOptions> = {}) {
  try {
    return await startClusterForTests(extra);
  } catch (error) {
    // Seen once in many runs on a busy machine: a node that never sees a peer up, for minutes. The cluster
    // is test equipment here, not what is tested: start it again once, and say so with what the nodes logged.
    if (!(error instanceof ClusterNotTogetherError)) throw error;
    console.warn(`${error.message}\nstarting the cluster again`);
    return startClusterForTests(extra);
  }
}

/** A cluster whose nodes did not all see each other up in time; the message holds their logs. */
class ClusterNotTogetherError extends Error {}

async function startClusterForTests(extra: Partial<ClientOptions>) {
  const external = process.env.KEYVENT_CASSANDRA_CONTACT_POINTS;
  const cluster: Pick<CassandraCluster, 'connection' | 'description' | 'stop'> & Partial<Pick<CassandraCluster, 'nodes' | 'replicationFactor'>> = external
    ? { connection: { contactPoints: external.split(','), localDataCenter: 'datacenter1' }, description: `the cluster at ${external}`, stop: async () => {} }
    : await startCassandraCluster({ nodes: 3 });
  console.info(`cassandra cluster: ${cluster.description}`);
  const client = new Client({ ...cluster.connection, ...extra });
  try {
    await client.connect();
    // A node that has just joined can be missing from the peers the client first reads: a cluster
    // started here has a known replication factor, and every node must coordinate at ALL before use.
    const replicationFactor = cluster.replicationFactor ?? Math.min(3, client.hosts.length);
    const keyspace = freshKeyspace();
    await createCassandraSchema(client, { keyspace, replication: `{'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}` });
    if (cluster.nodes) {
      const nodes = cluster.nodes;
      await waitUntilEveryNodeSeesAll(client, keyspace, nodes.length, 120_000).catch((error: unknown) => {
        const logs = nodes.map((node) => `--- ${node.address} ---\n${node.logTail()}`).join('\n');
        throw new ClusterNotTogetherError(`${(error as Error).message}: ${String((error as Error).cause ?? '')}\n${logs}`);
      });
    }
    return { cluster, client, keyspace, replicationFactor };
  } catch (error) {
    await client.shutdown();
    await cluster.stop();
    throw error;
  }
}

/**
 * Waits until the client sees all `nodes` up and each node, as coordinator, sees every replica of
 * `keyspace` alive, as an operator waits for a restarted node to show as up on every peer before
 * touching the next: a read at ALL that a node coordinates is refused as unavailable while it still
 * holds a peer down. Returns how long it took.
 */
export async function waitUntilEveryNodeSeesAll(client: Client, keyspace: string, nodes: number, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  const options = { consistency: types.consistencies.all, prepare: true };
  while (client.hosts.values().filter((host) => host.isUp()).length < nodes) {
    if (Date.now() - started > timeoutMs) throw new Error(`the client sees ${client.hosts.length} of ${nodes} nodes after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  for (const host of client.hosts.values()) {
    for (;;) {
      try {
        await client.execute(`SELECT key FROM ${keyspace}.events LIMIT 1`, [], { ...options, host });
        break;
      } catch (error) {
        if (Date.now() - started > timeoutMs) throw new Error(`${host.address} still sees a replica down after ${timeoutMs / 1000} s`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
  return Date.now() - started;
}

/**
 * A fault proxy in front of every node of a cluster, as one injector, and client options that reach every
 * node through its proxy: the contact points are the proxies, and the nodes' own addresses, which the
 * client learns from system.peers, are translated to theirs. A reset then meets whichever node the query
 * plan chose, and the client's next try goes to another node, as in production.
 */
export async function proxiedCluster(connection: ClientOptions & { contactPoints: string[] }): Promise<{ proxy: FaultProxy; clientOptions: ClientOptions }> {
  const defaultPort = connection.protocolOptions?.port ?? 9042;
  const targets = connection.contactPoints.map((point) => {
    const [host, port] = point.split(':');
    return { host: host!, port: port ? Number(port) : defaultPort };
  });
  const proxy = await startFaultProxies(targets);
  const through = new Map(targets.map((target, i) => [`${target.host}:${target.port}`, `${proxy.proxies[i]!.host}:${proxy.proxies[i]!.port}`]));
  // The typings call AddressTranslator an interface; the client checks for an instance of its class.
  const Base = (policies.addressResolution as unknown as { AddressTranslator: new () => object }).AddressTranslator;
  class ThroughProxies extends Base {
    translate(address: string, port: number, callback: (endpoint: string) => void): void {
      callback(through.get(`${address}:${port}`) ?? `${address}:${port}`);
    }
  }
  const addressResolution = new ThroughProxies() as unknown as policies.addressResolution.AddressTranslator;
  return { proxy, clientOptions: { ...connection, contactPoints: [...through.values()], policies: { ...connection.policies, addressResolution } } };
}
