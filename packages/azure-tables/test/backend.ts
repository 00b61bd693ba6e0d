import { randomUUID } from 'node:crypto';
import { createAzureTablesTable } from '@keyvent/azure-tables';
import { startPreparedBackend } from '@keyvent/testing';

/** Starts (or finds) a real Azure Tables service and makes a fresh table on it. */
export function azureTablesForTests() {
  return startPreparedBackend('azure-tables', async ({ connection }) => {
    const tableName = `keyvent${randomUUID().replaceAll('-', '')}`;
    const insecure = /DefaultEndpointsProtocol=http;|=http:\/\//.test(connection.connectionString);
    const client = await createAzureTablesTable(connection.connectionString, tableName, { allowInsecureConnection: insecure });
    return { client };
  });
}
