import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { createAzureTablesTable } from '@keyvent/azure-tables';
import { startBackend, type RunningBackend } from '@keyvent/testing';

/** Starts (or finds) a real Azure Tables service and makes a fresh table on it. */
export async function azureTablesForTests(): Promise<{ backend: RunningBackend<'azure-tables'>; client: TableClient }> {
  const backend = await startBackend('azure-tables');
  console.info(`azure-tables backend: ${backend.description} (${backend.source}), ready in ${backend.startMs} ms`);
  try {
    const tableName = `keyvent${randomUUID().replaceAll('-', '')}`;
    const insecure = backend.connection.connectionString.includes('=http;') || backend.connection.connectionString.includes('http://');
    const client = await createAzureTablesTable(backend.connection.connectionString, tableName, { allowInsecureConnection: insecure });
    return { backend, client };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}
