import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { registerConformanceSuite } from '@keyvent/conformance';
import { createDynamoDbDriver } from '@keyvent/dynamodb';
import { startFaultProxy, type FaultProxy, type RunningBackend } from '@keyvent/testing';
import { dynamoDbForTests } from './backend.js';

let backend: RunningBackend<'dynamodb'>;
let client: DynamoDBClient;
let tableName: string;
let proxy: FaultProxy;

beforeAll(async () => {
  ({ backend, client, tableName } = await dynamoDbForTests());
  const { hostname, port } = new URL(backend.connection.endpoint);
  proxy = await startFaultProxy({ host: hostname, port: Number(port) });
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
    createDriver: () =>
      createDynamoDbDriver({ tableName, clientConfig: { ...backend.connection, endpoint: `http://${proxy.host}:${proxy.port}` } }),
    injector: () => ({
      dropNextReply: proxy.dropNextReply,
      dropNextRequest: proxy.dropNextRequest,
      injected: () => proxy.counts.droppedReplies + proxy.counts.droppedRequests,
    }),
  },
});
