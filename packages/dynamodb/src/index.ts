export { createDynamoDbTable } from './create-table.js';
export { createDynamoDbDriver, type DynamoDbDriverOptions } from './dynamodb-driver.js';
