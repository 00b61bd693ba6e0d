/**
 * Fetches what the local servers need before a test run (CI calls this; tests would do it on first
 * use otherwise): Cassandra's jars, and, where no mongod is on the PATH, mongo-java-server's jars and
 * FerretDB (the MongoDB-protocol server on disk of the crash tests). Cached.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ferretDbBinary, FERRETDB_VERSION } from './ferretdb.js';
import { mavenLibrary } from './maven.js';

const servers = fileURLToPath(new URL('../servers/', import.meta.url));

function timed(what: string, task: () => string): void {
  const started = Date.now();
  const where = task();
  console.log(`${what}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${where})`);
}

timed('Apache Cassandra jars', () => mavenLibrary('cassandra', join(servers, 'cassandra', 'pom.xml')));
if (spawnSync('mongod', ['--version']).status === 0) console.log('MongoDB: mongod is on the PATH');
else {
  timed('mongo-java-server jars', () => mavenLibrary('mongo-java-server', join(servers, 'mongo-java-server', 'pom.xml')));
  timed(`FerretDB ${FERRETDB_VERSION}`, ferretDbBinary);
}
