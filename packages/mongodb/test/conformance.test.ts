import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { MongoClient } from 'mongodb';
import { registerConformanceSuite } from '@keyvent/conformance';
import { createMongoDbDriver } from '@keyvent/mongodb';
import { proxyBackend, type FaultProxy, type MongoDbConnection, type RunningBackend } from '@keyvent/testing';
import { mongoDbForTests } from './backend.js';

let backend: RunningBackend<'mongodb'>;
let client: MongoClient;
let database: string;
let proxy: FaultProxy;
let proxied: MongoDbConnection;

beforeAll(async () => {
  ({ backend, client, database } = await mongoDbForTests());
  ({ proxy, connection: proxied } = await proxyBackend('mongodb', backend.connection));
}, 180_000);
afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'mongodb',
  createDriver: () => createMongoDbDriver({ client, database }),
  faults: {
    // One connection, so that the fault meets the commit, not a monitoring check.
    createDriver: () => createMongoDbDriver({ uri: proxied.uri, database, clientOptions: { maxPoolSize: 1, directConnection: true } }),
    injector: () => proxy,
  },
});
