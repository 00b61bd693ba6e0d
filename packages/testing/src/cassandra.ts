import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CassandraConnection, LocalServer, LocalServerOptions } from './backends.js';
import { acceptsConnections, freePort, startLocalProcess, waitUntilReady, type LocalProcess } from './local-process.js';
import { mavenLibrary } from './maven.js';

const home = fileURLToPath(new URL('../servers/cassandra/', import.meta.url));
const START_MS = 180_000;
const LOCAL_DATA_CENTER = 'datacenter1';
/** What a node logs of its peers' states: kept for the message of a cluster that does not come together. */
const GOSSIP = /is now (UP|DOWN)|InetAddress|Handshak|FailureDetector|Gossip|Node .* (state|has restarted)|ERROR|WARN.*(peer|gossip|echo)/i;

/** The Cassandra version the runner's pom names: the one place it is written. */
export const cassandraVersion = (): string =>
  /<artifactId>cassandra-all<\/artifactId>\s*<version>([^<]+)</.exec(readFileSync(join(home, 'pom.xml'), 'utf8'))![1]!;

/** How one node is laid out and run. */
interface NodeSettings {
  dir: string;
  address: string;
  seed: string;
  storagePort: number;
  nativePort: number;
  /** The token lines of cassandra.yaml. */
  tokens: string;
  /** Acknowledge a write only once the commit log is synced, and keep system tables in it (for kills). */
  durable: boolean;
  heap: string;
  /** Its data centre, named to the others by GossipingPropertyFileSnitch; none: SimpleSnitch's `datacenter1`. */
  dataCenter?: string;
}

// The distribution's periodic sync acknowledges first, and a killed node loses what it had not yet
// written; group commit acknowledges a write once it is synced (the nodes of crash and kill tests).
const PERIODIC = 'commitlog_sync: periodic\ncommitlog_sync_period: 10000ms';
const GROUP = 'commitlog_sync: group\ncommitlog_sync_group_window: 10ms';

/** Writes the node's cassandra.yaml and starts its JVM; it is ready once its native port accepts TCP. */
function launchNode(node: NodeSettings): LocalProcess {
  const yaml = readFileSync(join(home, 'cassandra.yaml.template'), 'utf8')
    .replaceAll('${TOKENS}', node.tokens)
    .replaceAll('${SNITCH}', node.dataCenter ? 'GossipingPropertyFileSnitch' : 'SimpleSnitch')
    .replaceAll('${COMMITLOG}', node.durable ? GROUP : PERIODIC)
    .replaceAll('${DIR}', node.dir)
    .replaceAll('${ADDRESS}', node.address)
    .replaceAll('${SEED}', node.seed)
    .replaceAll('${STORAGE_PORT}', String(node.storagePort))
    .replaceAll('${NATIVE_PORT}', String(node.nativePort));
  mkdirSync(node.dir, { recursive: true });
  writeFileSync(join(node.dir, 'cassandra.yaml'), yaml);
  const rackDc = join(node.dir, 'cassandra-rackdc.properties');
  if (node.dataCenter) writeFileSync(rackDc, `dc=${node.dataCenter}\nrack=rack1\n`);
  return startLocalProcess('java', [
    `-Xms${node.heap}`,
    `-Xmx${node.heap}`,
    `@${join(home, 'jvm17.options')}`,
    // The options make schema changes quick by writing system tables without the commit log; a node
    // that is killed must keep its schema, tokens and Paxos state, so it writes them there too.
    ...(node.durable ? ['-Dcassandra.unsafesystem=false'] : []),
    `-Dcassandra.config=file://${join(node.dir, 'cassandra.yaml')}`,
    ...(node.dataCenter ? [`-Dcassandra-rackdc.properties=file://${rackDc}`] : []),
    `-Dcassandra.storagedir=${node.dir}`,
    `-Dcassandra.logdir=${join(node.dir, 'logs')}`,
    `-Dlogback.configurationFile=${join(home, 'logback.xml')}`,
    '-cp',
    `${mavenLibrary('cassandra', join(home, 'pom.xml'))}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ], { notable: GOSSIP });
}

/** Starts a node and waits until it takes CQL connections; kills it if it never does. */
async function startNode(node: NodeSettings): Promise<LocalProcess> {
  const server = launchNode(node);
  const what = `Cassandra ${cassandraVersion()} on ${node.address}`;
  await waitUntilReady(what, server, () => acceptsConnections(node.nativePort, node.address), START_MS).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  return server;
}

/** A port free on every one of `hosts`: the nodes of a cluster all listen on the same ports. */
async function portFreeOn(hosts: readonly string[], taken: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (taken.includes(port)) continue;
    const free = await Promise.all(hosts.map((host) => freePort(host, port).then(() => true, () => false)));
    if (free.every(Boolean)) return port;
  }
}

/**
 * Apache Cassandra from Maven Central (`cassandra-all`, jars cached), as one local node on Java 17 with
 * the JVM options of Cassandra's own distribution, a 1 GiB heap and a throwaway data directory.
 */
export async function startCassandra(options: LocalServerOptions = {}): Promise<LocalServer<CassandraConnection>> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'keyvent-cassandra-'));
  const address = '127.0.0.1';
  const storagePort = await portFreeOn([address]);
  const nativePort = await portFreeOn([address], [storagePort]);
  const tokens = 'num_tokens: 1\ninitial_token: 0\nauto_bootstrap: false';
  const remove = () => (options.dataDir ? undefined : rmSync(dir, { recursive: true, force: true }));
  const server = await startNode({ dir, address, seed: address, storagePort, nativePort, tokens, durable: options.dataDir !== undefined, heap: '1G' })
    .catch((error: unknown) => {
      remove();
      throw error;
    });
  return {
    connection: { contactPoints: [`${address}:${nativePort}`], localDataCenter: LOCAL_DATA_CENTER },
    description: `Apache Cassandra ${cassandraVersion()} (Maven Central, one node on Java) on ${address}:${nativePort}`,
    stop: async () => {
      await server.stop();
      remove();
    },
    kill: server.kill,
  };
}

export interface CassandraClusterOptions extends LocalServerOptions {
  /** How many nodes, on 127.0.0.1, 127.0.0.2 …; default 3. */
  nodes?: number;
  /**
   * Data centres the nodes are split into, in order (`datacenter1` gets the first nodes); default 1.
   * Each node names its own to the others (GossipingPropertyFileSnitch).
   */
  dataCenters?: number;
}

/** One node of a {@link CassandraCluster}. */
export interface CassandraNode {
  /** Its loopback address, e.g. `127.0.0.2`; its CQL port is the cluster's. */
  readonly address: string;
  /** Its data centre: `datacenter1`, `datacenter2` … */
  readonly dataCenter: string;
  /** How long its last start took until it took CQL connections, in milliseconds. */
  readonly startMs: number;
  /** SIGKILLs it (no flush, no goodbye to its peers) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on its own data (commit log replayed, tokens saved: no bootstrap); waits for CQL. */
  restart(): Promise<void>;
  /** The last lines its process printed (of its current or last run), for error messages. */
  logTail(): string;
}

/** A local Cassandra cluster: every node's contact point, and each node to kill and restart. */
export interface CassandraCluster extends LocalServer<CassandraConnection> {
  nodes: readonly CassandraNode[];
  /** How many replicas a keyspace of this cluster should keep in each data centre: one per node, at most 3. */
  replicationFactor: number;
  /** That replication as CQL, for `CREATE KEYSPACE … WITH replication = …` (NetworkTopologyStrategy). */
  replication: string;
}

/**
 * A Cassandra cluster of `nodes` nodes on loopback addresses 127.0.0.1 … 127.0.0.N (Linux routes all of
 * 127.0.0.0/8 to `lo`), each with its own data directory and a 768 MiB heap, on the same two ports, in
 * one data centre or several (`dataCenters`). The first node is the seed; the others bootstrap one after another, as a node still joining holds up the
 * next. Nodes sync the commit log before acknowledging and keep system tables in it, so a node can be
 * killed and restarted as in production. The recipe is in BACKEND-RECIPES.md.
 *
 * @example
 * ```ts
 * const cluster = await startCassandraCluster({ nodes: 3 });
 * const client = new Client(cluster.connection);
 * await cluster.nodes[2]!.kill();
 * await cluster.nodes[2]!.restart();
 * await cluster.stop();
 * ```
 */
export async function startCassandraCluster(options: CassandraClusterOptions = {}): Promise<CassandraCluster> {
  const count = options.nodes ?? 3;
  const dataCenters = options.dataCenters ?? 1;
  if (!Number.isInteger(count / dataCenters)) throw new Error(`${count} nodes do not split evenly into ${dataCenters} data centres`);
  const root = options.dataDir ?? mkdtempSync(join(tmpdir(), 'keyvent-cassandra-cluster-'));
  const addresses = Array.from({ length: count }, (_, index) => `127.0.0.${index + 1}`);
  const storagePort = await portFreeOn(addresses);
  const nativePort = await portFreeOn(addresses, [storagePort]);
  const perDataCenter = count / dataCenters;
  const replicationFactor = Math.min(3, perDataCenter);
  const dataCenterOf = (index: number) => `datacenter${Math.floor(index / perDataCenter) + 1}`;
  const nodes = addresses.map((address, index) =>
    clusterNode({
      dir: join(root, `node${index + 1}`),
      address,
      seed: addresses[0]!,
      storagePort,
      nativePort,
      tokens: `num_tokens: 16\nallocate_tokens_for_local_replication_factor: ${replicationFactor}`,
      durable: true,
      heap: '768m',
      dataCenter: dataCenterOf(index),
    }),
  );
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    if (!options.dataDir) rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const node of nodes) await node.restart();
  } catch (error) {
    await stop();
    throw error;
  }
  const started = nodes.map((node) => `${node.address} (${node.dataCenter}) in ${(node.startMs / 1000).toFixed(1)} s`).join(', ');
  const names = [...new Set(nodes.map((node) => node.dataCenter))];
  return {
    connection: {
      contactPoints: addresses.map((address) => `${address}:${nativePort}`),
      localDataCenter: names[0]!,
      protocolOptions: { port: nativePort },
    },
    description: `Apache Cassandra ${cassandraVersion()} (Maven Central, on Java), ${count} nodes on port ${nativePort}: ${started}`,
    nodes,
    replicationFactor,
    replication: `{'class': 'NetworkTopologyStrategy', ${names.map((name) => `'${name}': ${replicationFactor}`).join(', ')}}`,
    stop,
  };
}

/**
 * Starts a node of a cluster. A joining node first gossips with the seed for at most the ring delay
 * (1 s in jvm17.options, which keeps a test cluster's start quick); on a busy machine that round can go
 * unanswered ("Unable to contact any seeds") although the seed is up: start it again, up to twice.
 */
async function startJoiningNode(settings: NodeSettings): Promise<LocalProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNode(settings);
    } catch (error) {
      if (attempt === 3 || !/Unable to contact any seeds/.test((error as Error).message)) throw error;
      console.warn(`Cassandra node ${settings.address} found no seed within the ring delay (a busy machine): starting it again`);
    }
  }
}

function clusterNode(settings: NodeSettings): CassandraNode & { stop(): Promise<void> } {
  let server: LocalProcess | undefined;
  // Set when its process starts, cleared when it ends (killed, stopped or crashed).
  let running = false;
  let startMs = 0;
  return {
    address: settings.address,
    dataCenter: settings.dataCenter ?? LOCAL_DATA_CENTER,
    get startMs() {
      return startMs;
    },
    async kill() {
      await server?.kill();
    },
    async restart() {
      if (running) throw new Error(`Cassandra node ${settings.address} is running: kill or stop it first`);
      const started = Date.now();
      server = await startJoiningNode(settings);
      running = true;
      void server.exited.then(() => (running = false));
      startMs = Date.now() - started;
    },
    async stop() {
      await server?.stop();
    },
    logTail: () => server?.logTail() ?? '(never started)',
  };
}
