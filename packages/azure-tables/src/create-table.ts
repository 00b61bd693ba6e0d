import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';

/**
 * Creates the table if it does not exist and returns a client for it. Use
 * `{ allowInsecureConnection: true }` for Azurite or another emulator over http.
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
  const client = TableClient.fromConnectionString(connectionString, tableName, clientOptions);
  await client.createTable();
  return client;
}
