import type { KeyValueDriver } from '@keyvent/core';
import { storeNotFound, UsageError } from './errors.js';
import { importSchemePackages } from './optional-packages.js';

/** How long the CLI's clients try to reach a server before giving up: an unreachable one fails in seconds, not half a minute. */
const CONNECT_TIMEOUT_MS = 5000;

function parsed(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new UsageError(`${JSON.stringify(url)} is not a valid URL`);
  }
}

function pathName(url: URL, what: string, example: string): string {
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) throw new UsageError(`${url.protocol} needs a ${what}, e.g. ${example}`);
  return name;
}

/** A driver on a client created here: the client closes with the driver, or at once if opening fails. */
async function owningClient(closeClient: () => unknown, open: () => Promise<KeyValueDriver>): Promise<KeyValueDriver> {
  let driver: KeyValueDriver;
  try {
    driver = await open();
  } catch (error) {
    await closeClient();
    throw error;
  }
  return {
    ...driver,
    close: async () => {
      await driver.close();
      await closeClient();
    },
  };
}

/** The table and client settings a DynamoDB URL names; `where` names the endpoint for messages. */
function dynamoDbTarget(url: string, rest: string): { tableName: string; where: string; config: object } {
  if (!rest.startsWith('//')) {
    if (!rest) throw new UsageError('dynamodb: needs a table, e.g. dynamodb:events');
    return { tableName: rest, where: '', config: {} };
  }
  const target = parsed(url);
  const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local' };
  return {
    tableName: pathName(target, 'table', 'dynamodb://localhost:8000/events'),
    // The endpoint without its scheme: redactSecrets reads `//host:` and a later `@` as a password.
    where: ` at ${target.host}`,
    config: { endpoint: `http://${target.host}`, region: process.env.AWS_REGION ?? 'us-east-1', credentials },
  };
}

/** Opens `dynamodb://HOST:PORT/TABLE` (an endpoint such as DynamoDB Local) or `dynamodb:TABLE` (AWS). */
export async function openDynamoDb(url: string, rest: string, create: boolean): Promise<KeyValueDriver> {
  const [{ DescribeTableCommand, DynamoDBClient }, { createDynamoDbDriver, createDynamoDbTable }] = await importSchemePackages('dynamodb', () =>
    Promise.all([import('@aws-sdk/client-dynamodb'), import('@keyvent/dynamodb')]),
  );
  const { tableName, where, config } = dynamoDbTarget(url, rest);
  const client = new DynamoDBClient({ ...config, requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS } });
  const tableMissing = () =>
    storeNotFound('dynamodb', `no table ${JSON.stringify(tableName)}${where}`, `createDynamoDbTable(client, ${JSON.stringify(tableName)}) from @keyvent/dynamodb`);
  return owningClient(
    () => client.destroy(),
    async () => {
      if (create) await createDynamoDbTable(client, tableName);
      else {
        await client.send(new DescribeTableCommand({ TableName: tableName })).catch((error: Error) => {
          throw error.name === 'ResourceNotFoundException' ? tableMissing() : error;
        });
      }
      return createDynamoDbDriver({ client, tableName });
    },
  );
}

/** The MongoDB client's timeouts, unless the URL sets them (its options are matched without regard to case). */
function mongoTimeouts(target: URL): Record<string, number> {
  const set = new Set([...target.searchParams.keys()].map((key) => key.toLowerCase()));
  const timeouts: Record<string, number> = {};
  for (const name of ['serverSelectionTimeoutMS', 'connectTimeoutMS']) if (!set.has(name.toLowerCase())) timeouts[name] = CONNECT_TIMEOUT_MS;
  return timeouts;
}

/** Opens `mongodb://HOST:PORT/DATABASE`, collection `events`. */
export async function openMongoDb(url: string, create: boolean): Promise<KeyValueDriver> {
  const [{ MongoClient }, { createMongoDbDriver, createMongoDbIndexes }] = await importSchemePackages('mongodb', () =>
    Promise.all([import('mongodb'), import('@keyvent/mongodb')]),
  );
  const target = parsed(url);
  const database = pathName(target, 'database', 'mongodb://localhost:27017/app');
  const client = new MongoClient(url, mongoTimeouts(target));
  return owningClient(
    () => client.close(),
    async () => {
      if (create) await createMongoDbIndexes(client.db(database).collection('events'));
      else if ((await client.db(database).listCollections({ name: 'events' }, { nameOnly: true }).toArray()).length === 0) {
        throw storeNotFound('mongodb', `no collection "events" in database ${JSON.stringify(database)}`, 'createMongoDbIndexes(collection) from @keyvent/mongodb');
      }
      return createMongoDbDriver({ client, database });
    },
  );
}

/** Opens `cassandra://HOST:PORT/KEYSPACE[?dc=DC]`, table `events`. */
export async function openCassandra(url: string, create: boolean): Promise<KeyValueDriver> {
  const [{ Client }, { createCassandraDriver, createCassandraSchema }] = await importSchemePackages('cassandra', () =>
    Promise.all([import('cassandra-driver'), import('@keyvent/cassandra')]),
  );
  const target = parsed(url);
  const keyspace = pathName(target, 'keyspace', 'cassandra://localhost:9042/app');
  const client = new Client({
    contactPoints: [target.host],
    localDataCenter: target.searchParams.get('dc') ?? 'datacenter1',
    socketOptions: { connectTimeout: CONNECT_TIMEOUT_MS },
  });
  return owningClient(
    () => client.shutdown(),
    async () => {
      const driver = createCassandraDriver({ client, keyspace }); // checks the names before any query
      if (create) await createCassandraSchema(client, { keyspace });
      else {
        // Unquoted CQL names are stored in lower case.
        const found = await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?', [keyspace.toLowerCase(), 'events']);
        if (found.rowLength === 0) {
          throw storeNotFound('cassandra', `no table events in keyspace ${JSON.stringify(keyspace)}`, `createCassandraSchema(client, { keyspace: ${JSON.stringify(keyspace)} }) from @keyvent/cassandra`);
        }
      }
      return driver;
    },
  );
}

/** Opens `azure-tables:TABLE` with the connection string from `KEYVENT_AZURE_TABLES_CONNECTION`. */
export async function openAzureTables(table: string, create: boolean): Promise<KeyValueDriver> {
  const connectionString = process.env.KEYVENT_AZURE_TABLES_CONNECTION;
  if (!connectionString) throw new UsageError('azure-tables: set KEYVENT_AZURE_TABLES_CONNECTION to the connection string');
  if (!table) throw new UsageError('azure-tables: needs a table, e.g. azure-tables:events');
  const [{ TableClient }, { createAzureTablesDriver, createAzureTablesTable }] = await importSchemePackages('azure-tables', () =>
    Promise.all([import('@azure/data-tables'), import('@keyvent/azure-tables')]),
  );
  const clientOptions = { allowInsecureConnection: /DefaultEndpointsProtocol=http;|=http:\/\//.test(connectionString) };
  if (create) return createAzureTablesDriver({ client: await createAzureTablesTable(connectionString, table, clientOptions) });
  // The SDK's retries bounded to 2, as createAzureTablesTable bounds them.
  const client = TableClient.fromConnectionString(connectionString, table, { ...clientOptions, retryOptions: { maxRetries: 2 } });
  // One entity's key: a missing table answers 404, and an unreachable service fails here, without the core's retries.
  await client
    .listEntities({ queryOptions: { select: ['PartitionKey'] } })
    .byPage({ maxPageSize: 1 })
    .next()
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
      throw storeNotFound('azure-tables', `no table ${JSON.stringify(table)}`, `createAzureTablesTable(connectionString, ${JSON.stringify(table)}) from @keyvent/azure-tables`);
    });
  return createAzureTablesDriver({ client });
}
