import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { MongoClient } from 'mongodb';
import { registerConformanceSuite } from '@keyvent/conformance';
import { createMongoDbDriver } from '@keyvent/mongodb';
import type { RunningBackend } from '@keyvent/testing';
import { mongoDbForTests } from './backend.js';

let backend: RunningBackend<'mongodb'>;
let client: MongoClient;
let database: string;

beforeAll(async () => {
  ({ backend, client, database } = await mongoDbForTests());
}, 180_000);
afterAll(async () => {
  await client?.close();
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'mongodb',
  createDriver: () => createMongoDbDriver({ client, database }),
});
