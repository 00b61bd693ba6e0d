import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CassandraConnection, LocalServer, LocalServerOptions, MongoDbConnection } from './backends.js';
import { startFerretDb } from './ferretdb.js';
import { acceptsConnections, freePort, startLocalProcess, waitUntilReady } from './local-process.js';
import { mavenLibrary } from './maven.js';

const servers = fileURLToPath(new URL('../servers/', import.meta.url));
const CASSANDRA_START_MS = 180_000;
const START_MS = 60_000;

async function twoFreePorts(): Promise<[number, number]> {
  for (;;) {
    const [a, b] = [await freePort(), await freePort()];
    if (a !== b) return [a, b];
  }
}

/** The Cassandra version the runner's pom names: the one place it is written. */
export const cassandraVersion = (): string =>
  /<artifactId>cassandra-all<\/artifactId>\s*<version>([^<]+)</.exec(readFileSync(join(servers, 'cassandra', 'pom.xml'), 'utf8'))![1]!;

/**
 * Apache Cassandra from Maven Central (`cassandra-all`, jars cached), as one local node on Java 17 with
 * the JVM options of Cassandra's own distribution, a 1 GiB heap and a throwaway data directory.
 * Cassandra opens its native port last, so a TCP connection there means it is ready.
 */
export async function startCassandra(options: LocalServerOptions = {}): Promise<LocalServer<CassandraConnection>> {
  const home = join(servers, 'cassandra');
  const version = cassandraVersion();
  const lib = mavenLibrary('cassandra', join(home, 'pom.xml'));
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'keyvent-cassandra-'));
  const [storagePort, nativePort] = await twoFreePorts();
  const yaml = readFileSync(join(home, 'cassandra.yaml.template'), 'utf8')
    .replaceAll('${DIR}', dir)
    .replaceAll('${STORAGE_PORT}', String(storagePort))
    .replaceAll('${NATIVE_PORT}', String(nativePort));
  // On disk for a crash test, acknowledge a write only once the commit log is synced (group commit): the
  // distribution's periodic sync acknowledges first, and a killed node loses what it had not yet written.
  const durable = options.dataDir ? yaml.replace(/^commitlog_sync: periodic\ncommitlog_sync_period: \S+$/m, 'commitlog_sync: group\ncommitlog_sync_group_window: 10ms') : yaml;
  if (options.dataDir && durable === yaml) throw new Error('cassandra.yaml.template no longer has the periodic commit log settings to replace');
  writeFileSync(join(dir, 'cassandra.yaml'), durable);
  const server = startLocalProcess('java', [
    '-Xms1G',
    '-Xmx1G',
    `@${join(home, 'jvm17.options')}`,
    // The options make schema changes quick by writing system tables without the commit log; data kept on
    // disk for a crash test must have its schema survive a kill too.
    ...(options.dataDir ? ['-Dcassandra.unsafesystem=false'] : []),
    `-Dcassandra.config=file://${join(dir, 'cassandra.yaml')}`,
    `-Dcassandra.storagedir=${dir}`,
    `-Dcassandra.logdir=${join(dir, 'logs')}`,
    `-Dlogback.configurationFile=${join(home, 'logback.xml')}`,
    '-cp',
    `${lib}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ]);
  const stop = async () => {
    await server.stop();
    if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
  };
  await waitUntilReady(`Cassandra ${version}`, server, () => acceptsConnections(nativePort), CASSANDRA_START_MS).catch(async (error) => {
    await stop();
    throw error;
  });
  return {
    connection: { contactPoints: [`127.0.0.1:${nativePort}`], localDataCenter: 'datacenter1' },
    description: `Apache Cassandra ${version} (Maven Central, one node on Java) on 127.0.0.1:${nativePort}`,
    stop,
    kill: server.kill,
  };
}

/**
 * A MongoDB-protocol server: a real `mongod` when one is on the PATH; otherwise mongo-java-server from
 * Maven Central (in memory; see packages/mongodb/README.md for what it differs in), or, with `dataDir`,
 * FerretDB on SQLite built from its Go module.
 */
export async function startMongoDb(options: LocalServerOptions = {}): Promise<LocalServer<MongoDbConnection>> {
  const port = await freePort();
  const mongod = spawnSync('mongod', ['--version'], { encoding: 'utf8' });
  if (mongod.status === 0) {
    const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'keyvent-mongod-'));
    const server = startLocalProcess('mongod', ['--dbpath', dir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet']);
    await waitUntilReady('mongod', server, () => acceptsConnections(port), START_MS).catch((error: unknown) => {
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
      throw error;
    });
    const version = /db version (v[\d.]+)/.exec(mongod.stdout)?.[1] ?? '';
    return {
      connection: { uri: `mongodb://127.0.0.1:${port}` },
      description: `mongod ${version} on 127.0.0.1:${port}`,
      stop: async () => {
        await server.stop();
        if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
      },
      kill: server.kill,
    };
  }
  // mongo-java-server keeps its data in memory only: on disk, FerretDB on SQLite stands in.
  if (options.dataDir) return startFerretDb(options.dataDir);
  const home = join(servers, 'mongo-java-server');
  const lib = mavenLibrary('mongo-java-server', join(home, 'pom.xml'));
  const server = startLocalProcess('java', [
    '-Xmx512m',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    `${lib}/*`,
    join(home, 'MongoMain.java'),
    String(port),
  ]);
  await waitUntilReady('mongo-java-server', server, () => acceptsConnections(port), START_MS);
  return {
    connection: { uri: `mongodb://127.0.0.1:${port}` },
    description: `mongo-java-server 1.47.0 (no mongod on the PATH; in memory, on Java) on 127.0.0.1:${port}`,
    stop: server.stop,
  };
}
