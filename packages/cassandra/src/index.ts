export { createCassandraDriver, type CassandraDriverOptions } from './cassandra-driver.js';
export { createCassandraSchema, type CassandraSchemaOptions } from './schema.js';
