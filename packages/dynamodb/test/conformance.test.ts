import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { registerConformanceSuite } from '@keyvent/conformance';
import { createDynamoDbDriver } from '@keyvent/dynamodb';
import { proxyBackend, type DynamoDbConnection, type FaultProxy, type RunningBackend } from '@keyvent/testing';
import { dynamoDbForTests } from './backend.js';

let backend: RunningBackend<'dynamodb'>;
let client: DynamoDBClient;
let tableName: string;
let proxy: FaultProxy;
let proxied: DynamoDbConnection;

beforeAll(async () => {
  ({ backend, client, tableName } = await dynamoDbForTests());
  ({ proxy, connection: proxied } = await proxyBackend('dynamodb', backend.connection));
}, 120_000);
afterAll(async () => {
  client?.destroy();
  await proxy?.close();
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'dynamodb',
  createDriver: () => createDynamoDbDriver({ tableName, clientConfig: backend.connection }),
  faults: {
    createDriver: () => createDynamoDbDriver({ tableName, clientConfig: proxied }),
    injector: () => proxy,
  },
});
