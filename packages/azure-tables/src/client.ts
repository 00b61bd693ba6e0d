import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';

/**
 * Retries of the SDK's own (its default is 3). The SDK retries a request below keyvent, on a reset
 * connection, a timeout, 408, 429, 5xx; the core then retries a retryable `DriverError` (5 attempts by
 * default). Two here keep the product bounded: at most 5 × (1 + 2) = 15 requests for one call.
 */
export const SDK_MAX_RETRIES = 2;

/** A client for the table, with the SDK's retries bounded unless `clientOptions.retryOptions` says otherwise. */
export function createTableClient(connectionString: string, tableName: string, clientOptions: TableServiceClientOptions = {}): TableClient {
  const retryOptions = { maxRetries: SDK_MAX_RETRIES, ...clientOptions.retryOptions };
  return TableClient.fromConnectionString(connectionString, tableName, { ...clientOptions, retryOptions });
}

/**
 * A client for another table of the same account that shares `client`'s pipeline: its credential, its
 * retry settings and any policy added to it, before or after. A `TableClient` names its table in every
 * request from its `tableName` (so in @azure/data-tables 13.x), so a copy with another name is a client
 * of that table; the SDK offers no public way to reuse a client's credential.
 */
export function siblingClient(client: TableClient, tableName: string): TableClient {
  const sibling = Object.create(Object.getPrototypeOf(client) as object) as TableClient;
  return Object.assign(sibling, client, { tableName });
}
