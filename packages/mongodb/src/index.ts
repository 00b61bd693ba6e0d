export type { CommitDocument } from './documents.js';
export { createMongoDbIndexes } from './indexes.js';
export { createMongoDbDriver, type MongoDbDriverOptions } from './mongodb-driver.js';
