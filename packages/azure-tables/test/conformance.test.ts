import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { TableClient } from '@azure/data-tables';
import { createAzureTablesDriver } from '@keyvent/azure-tables';
import { registerConformanceSuite } from '@keyvent/conformance';
import type { RunningBackend } from '@keyvent/testing';
import { azureTablesForTests } from './backend.js';

let backend: RunningBackend<'azure-tables'>;
let client: TableClient;

beforeAll(async () => {
  ({ backend, client } = await azureTablesForTests());
}, 120_000);
afterAll(async () => {
  await backend?.stop();
});

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'azure-tables',
  createDriver: () => createAzureTablesDriver({ client }),
});
