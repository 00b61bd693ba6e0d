import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createMemoryDriver, createStore, DriverError, isKeyventError, isValidationError, type EventStore, type KeyValueDriver } from '@keyvent/core';
import { storeNotFound, UsageError } from './errors.js';
import { openAzureTables, openCassandra, openDynamoDb, openMongoDb } from './server-stores.js';

/** The store URL forms, for help texts. */
export const STORE_URL_HELP = `Stores are named by URL:
  level:DIR                              an embedded LevelDB store in DIR
  memory:                                an empty in-memory store
  dynamodb://HOST:PORT/TABLE             DynamoDB at http://HOST:PORT (e.g. DynamoDB Local); credentials and
  dynamodb:TABLE                         region from the AWS environment
  mongodb://HOST:PORT/DATABASE           MongoDB (collection "events")
  cassandra://HOST:PORT/KEYSPACE[?dc=D]  Cassandra (table "events"; dc default datacenter1)
  azure-tables:TABLE                     Azure Tables; the connection string from KEYVENT_AZURE_TABLES_CONNECTION
Only append, the copy target, demo and bench create a store (directory, table, keyspace, indexes) that
is missing; the other commands fail and create nothing. Server stores need their packages beside
@keyvent/cli, e.g. npm install @keyvent/dynamodb @aws-sdk/client-dynamodb.`;

/** How {@link openStore} opens a store. */
export interface OpenStoreOptions {
  /**
   * Create what the store needs when it is missing: the LevelDB directory, the DynamoDB or Azure table,
   * the Cassandra keyspace and table, the MongoDB indexes. Default true. When false nothing is created:
   * a missing store fails with a `DriverError` that says how to create it.
   */
  create?: boolean;
}

/**
 * Opens the store a URL names. Backend SDKs load only when their scheme is used, and a missing one is
 * named with the `npm install` that brings it. Secrets never sit in the URL: the Azure connection
 * string comes from the environment, AWS credentials from the SDK's chain. Clients created here give
 * up connecting within seconds.
 *
 * @throws UsageError for a URL that names no store (an invalid name in it included).
 * @throws DriverError when the store cannot be opened, or is missing and `create` is false.
 * @example
 * ```ts
 * const store = await openStore('level:./data', { create: false });
 * ```
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  return (await openStoreAndDriver(url, options)).store;
}

/** A store opened by {@link openStoreAndDriver}, with its driver (closed by `store.close()`). */
export interface OpenedStore {
  store: EventStore;
  /** The driver under `store`, for what the store does not offer (the feed's checkpoint rows); `store.close()` closes it. */
  driver: KeyValueDriver;
}

/**
 * {@link openStore}, and the driver under the store: the same URLs, options and errors.
 *
 * @example
 * ```ts
 * const { store, driver } = await openStoreAndDriver('level:./data', { create: false });
 * const rows = await driver.feed?.listCheckpoints();
 * await store.close();
 * ```
 */
export async function openStoreAndDriver(url: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  try {
    const driver = await openDriver(url, options.create ?? true);
    return { store: createStore(driver), driver };
  } catch (error) {
    if (isValidationError(error)) throw new UsageError(`${error.message} (in ${url})`);
    if (error instanceof UsageError || isKeyventError(error)) throw error;
    const scheme = /^([a-z-]+):/.exec(url)?.[1] ?? 'store';
    throw new DriverError(scheme, `cannot open ${url}: ${(error as Error).message}`, { cause: error });
  }
}

async function openDriver(url: string, create: boolean): Promise<KeyValueDriver> {
  const scheme = /^([a-z-]+):/.exec(url)?.[1];
  const rest = url.slice((scheme?.length ?? 0) + 1);
  switch (scheme) {
    case 'level':
      return openLevel(rest, create);
    case 'memory':
      return createMemoryDriver();
    case 'dynamodb':
      return openDynamoDb(url, rest, create);
    case 'mongodb':
      return openMongoDb(url, create);
    case 'cassandra':
      return openCassandra(url, create);
    case 'azure-tables':
      return openAzureTables(rest, create);
    default:
      throw new UsageError(`${JSON.stringify(url)} is not a store URL\n${STORE_URL_HELP}`);
  }
}

async function openLevel(directory: string, create: boolean): Promise<KeyValueDriver> {
  if (!directory) throw new UsageError('level: needs a directory, e.g. level:./data');
  const location = resolve(directory);
  // Checked here: classic-level's createIfMissing: false still makes the directory, with LevelDB's LOCK
  // and LOG files, before it fails. CURRENT is the file LevelDB itself looks for.
  if (!create && !existsSync(join(location, 'CURRENT'))) {
    throw storeNotFound('level', `no LevelDB store in ${JSON.stringify(location)}`, 'createLevelDriver({ location }) from @keyvent/level');
  }
  const { createLevelDriver } = await import('@keyvent/level');
  return createLevelDriver({ location });
}
