export { createDynamoDbTable } from './create-table.js';
export { createDynamoDbDriver, type DynamoDbDriverOptions } from './dynamodb-driver.js';
/** The layout, for tools that write or read a table directly. */
export { LISTING_SHARDS, listingShard, listingShardOf } from './items.js';
