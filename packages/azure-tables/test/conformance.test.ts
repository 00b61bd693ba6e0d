import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { TableClient } from '@azure/data-tables';
import { createAzureTablesDriver } from '@keyvent/azure-tables';
import { registerConformanceSuite } from '@keyvent/conformance';
import { proxyBackend, type AzureTablesConnection, type FaultProxy, type RunningBackend } from '@keyvent/testing';
import { azureTablesForTests } from './backend.js';

let backend: RunningBackend<'azure-tables'>;
let client: TableClient;
let proxy: FaultProxy;
let proxied: AzureTablesConnection;

beforeAll(async () => {
  ({ backend, client } = await azureTablesForTests());
  ({ proxy, connection: proxied } = await proxyBackend('azure-tables', backend.connection));
}, 120_000);
afterAll(async () => {
  await proxy?.close();
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'azure-tables',
  createDriver: () => createAzureTablesDriver({ client }),
  faults: {
    createDriver: () =>
      createAzureTablesDriver({
        connectionString: proxied.connectionString,
        tableName: client.tableName,
        clientOptions: { allowInsecureConnection: true },
      }),
    injector: () => proxy,
  },
});
