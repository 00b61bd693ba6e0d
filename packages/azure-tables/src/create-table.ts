import type { TableClient, TableServiceClientOptions } from '@azure/data-tables';
import { createTableClient } from './client.js';
import { defaultFeedTableName, recordFeedStart } from './feed-table.js';
import { markLayout } from './layout.js';
import { detectService } from './limits.js';

/** The feed table beside the events table. */
export interface AzureTablesTableOptions {
  /** Make the feed table (for `readAll` and consumers). Default true; `false` for a driver made with `feed: false`. */
  feed?: boolean;
  /** Its name; pass the same to the driver. Default `<tableName>feed`. */
  feedTableName?: string;
}

/**
 * Creates the table and its feed table (`<tableName>feed`) if they do not exist, and returns a client
 * for the table (with the SDK's retries bounded to 2, unless `clientOptions.retryOptions` says
 * otherwise). Use `{ allowInsecureConnection: true }` for Azurite or another emulator over http.
 * Running it again on existing tables is harmless, and adds the feed table to a table made before it.
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
  options: AzureTablesTableOptions = {},
): Promise<TableClient> {
  const client = createTableClient(connectionString, tableName, clientOptions);
  await client.createTable();
  await markLayout(client);
  if (options.feed !== false) {
    const feedClient = createTableClient(connectionString, options.feedTableName ?? defaultFeedTableName(tableName), clientOptions);
    await feedClient.createTable();
    await recordFeedStart(feedClient, detectService(feedClient.url));
  }
  return client;
}
