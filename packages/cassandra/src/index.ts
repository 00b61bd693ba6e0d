export { createCassandraDriver, type CassandraDriverOptions } from './cassandra-driver.js';
export { createCassandraSchema, type CassandraSchemaOptions } from './schema.js';
/** The layout, for tools that write or read the tables directly. */
export { DIRECTORY_SHARDS } from './directory.js';
