import { resolve } from 'node:path';
import { createMemoryDriver, createStore, DriverError, isKeyventError, type EventStore, type KeyValueDriver } from '@keyvent/core';

/** A mistake in what the user typed: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const STORE_URL_HELP = `Stores are named by URL:
  level:DIR                              an embedded LevelDB store in DIR (created if missing)
  memory:                                an empty in-memory store
  dynamodb://HOST:PORT/TABLE             DynamoDB at http://HOST:PORT (e.g. DynamoDB Local); credentials and
  dynamodb:TABLE                         region from the AWS environment; the table is created if missing
  mongodb://HOST:PORT/DATABASE           MongoDB (collection "events"; indexes created if missing)
  cassandra://HOST:PORT/KEYSPACE[?dc=D]  Cassandra (keyspace and table created if missing; dc default datacenter1)
  azure-tables:TABLE                     Azure Tables; the connection string from KEYVENT_AZURE_TABLES_CONNECTION`;

/**
 * Opens the store a URL names. Backend SDKs load only when their scheme is used. Secrets never sit in
 * the URL: the Azure connection string comes from the environment, AWS credentials from the SDK's chain.
 */
export async function openStore(url: string): Promise<EventStore> {
  try {
    return createStore(await openDriver(url));
  } catch (error) {
    if (error instanceof UsageError || isKeyventError(error)) throw error;
    const scheme = /^([a-z-]+):/.exec(url)?.[1] ?? 'store';
    throw new DriverError(scheme, `cannot open ${url}: ${(error as Error).message}`, { cause: error });
  }
}

async function openDriver(url: string): Promise<KeyValueDriver> {
  const scheme = /^([a-z-]+):/.exec(url)?.[1];
  const rest = url.slice((scheme?.length ?? 0) + 1);
  switch (scheme) {
    case 'level': {
      if (!rest) throw new UsageError('level: needs a directory, e.g. level:./data');
      const { createLevelDriver } = await import('@keyvent/level');
      return createLevelDriver({ location: resolve(rest) });
    }
    case 'memory':
      return createMemoryDriver();
    case 'dynamodb':
      return openDynamoDb(url, rest);
    case 'mongodb':
      return openMongoDb(url);
    case 'cassandra':
      return openCassandra(url);
    case 'azure-tables':
      return openAzureTables(rest);
    default:
      throw new UsageError(`${JSON.stringify(url)} is not a store URL\n${STORE_URL_HELP}`);
  }
}

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

async function openDynamoDb(url: string, rest: string): Promise<KeyValueDriver> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createDynamoDbDriver, createDynamoDbTable } = await import('@keyvent/dynamodb');
  let tableName = rest;
  let config = {};
  if (rest.startsWith('//')) {
    const target = parsed(url);
    tableName = pathName(target, 'table', 'dynamodb://localhost:8000/events');
    config = {
      endpoint: `http://${target.host}`,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      },
    };
  }
  if (!tableName) throw new UsageError('dynamodb: needs a table, e.g. dynamodb:events');
  const client = new DynamoDBClient(config);
  await createDynamoDbTable(client, tableName);
  return createDynamoDbDriver({ client, tableName });
}

async function openMongoDb(url: string): Promise<KeyValueDriver> {
  const { MongoClient } = await import('mongodb');
  const { createMongoDbDriver, createMongoDbIndexes } = await import('@keyvent/mongodb');
  const database = pathName(parsed(url), 'database', 'mongodb://localhost:27017/app');
  const client = new MongoClient(url);
  await createMongoDbIndexes(client.db(database).collection('events'));
  const driver = createMongoDbDriver({ client, database });
  return { ...driver, close: async () => (await driver.close(), await client.close()) };
}

async function openCassandra(url: string): Promise<KeyValueDriver> {
  const { Client } = await import('cassandra-driver');
  const { createCassandraDriver, createCassandraSchema } = await import('@keyvent/cassandra');
  const target = parsed(url);
  const keyspace = pathName(target, 'keyspace', 'cassandra://localhost:9042/app');
  const client = new Client({ contactPoints: [target.host], localDataCenter: target.searchParams.get('dc') ?? 'datacenter1' });
  await createCassandraSchema(client, { keyspace });
  const driver = createCassandraDriver({ client, keyspace });
  return { ...driver, close: async () => (await driver.close(), await client.shutdown()) };
}

async function openAzureTables(table: string): Promise<KeyValueDriver> {
  const connectionString = process.env.KEYVENT_AZURE_TABLES_CONNECTION;
  if (!connectionString) throw new UsageError('azure-tables: set KEYVENT_AZURE_TABLES_CONNECTION to the connection string');
  if (!table) throw new UsageError('azure-tables: needs a table, e.g. azure-tables:events');
  const { createAzureTablesDriver, createAzureTablesTable } = await import('@keyvent/azure-tables');
  const insecure = /DefaultEndpointsProtocol=http;|=http:\/\//.test(connectionString);
  const client = await createAzureTablesTable(connectionString, table, { allowInsecureConnection: insecure });
  return createAzureTablesDriver({ client });
}
