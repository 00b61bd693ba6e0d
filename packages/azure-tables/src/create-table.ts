import type { TableClient, TableServiceClientOptions } from '@azure/data-tables';
import { createTableClient } from './client.js';

/**
 * Creates the table if it does not exist and returns a client for it (with the SDK's retries bounded
 * to 2, unless `clientOptions.retryOptions` says otherwise). Use `{ allowInsecureConnection: true }`
 * for Azurite or another emulator over http.
 *
 * @example
 * ```ts
 * const client = await createAzureTablesTable(process.env.AZURE_TABLES_CONNECTION!, 'events');
 * ```
 */
export async function createAzureTablesTable(
  connectionString: string,
  tableName: string,
  clientOptions?: TableServiceClientOptions,
): Promise<TableClient> {
  const client = createTableClient(connectionString, tableName, clientOptions);
  await client.createTable();
  return client;
}
