export { createAzureTablesDriver, type AzureTablesDriverOptions } from './azure-tables-driver.js';
export { createAzureTablesTable, type AzureTablesTableOptions } from './create-table.js';
export { decodeKey, encodeKey } from './keys.js';
export type { AzureTablesService } from './limits.js';
/** The layout, for tools that write or read the table directly. */
export { directoryEntity, DIRECTORY_SHARDS } from './directory.js';
