import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { registerConformanceSuite } from '@keyvent/conformance';
import { createDynamoDbDriver } from '@keyvent/dynamodb';
import type { RunningBackend } from '@keyvent/testing';
import { dynamoDbForTests } from './backend.js';

let backend: RunningBackend<'dynamodb'>;
let client: DynamoDBClient;
let tableName: string;

beforeAll(async () => {
  ({ backend, client, tableName } = await dynamoDbForTests());
}, 120_000);
afterAll(async () => {
  client?.destroy();
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'dynamodb',
  createDriver: () => createDynamoDbDriver({ tableName, clientConfig: backend.connection }),
});
