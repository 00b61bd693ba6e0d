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
