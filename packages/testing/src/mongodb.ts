import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalServer, LocalServerOptions, MongoDbConnection } from './backends.js';
import { startFerretDb } from './ferretdb.js';
import { acceptsConnections, freePort, startLocalProcess, waitUntilReady } from './local-process.js';
import { mavenLibrary } from './maven.js';

const servers = fileURLToPath(new URL('../servers/', import.meta.url));
const START_MS = 60_000;

/**
 * A MongoDB-protocol server: a real `mongod` when one is on the PATH; otherwise mongo-java-server from
 * Maven Central (in memory; see packages/mongodb/README.md for what it differs in), or, with `dataDir`,
 * FerretDB on SQLite built from its Go module.
 */
export async function startMongoDb(options: LocalServerOptions = {}): Promise<LocalServer<MongoDbConnection>> {
  const port = await freePort();
  const mongod = spawnSync('mongod', ['--version'], { encoding: 'utf8' });
  if (mongod.status === 0) {
    const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'keyvent-mongod-'));
    const server = startLocalProcess('mongod', ['--dbpath', dir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet']);
    await waitUntilReady('mongod', server, () => acceptsConnections(port), START_MS).catch((error: unknown) => {
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
      throw error;
    });
    const version = /db version (v[\d.]+)/.exec(mongod.stdout)?.[1] ?? '';
    return {
      connection: { uri: `mongodb://127.0.0.1:${port}` },
      description: `mongod ${version} on 127.0.0.1:${port}`,
      stop: async () => {
        await server.stop();
        if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
      },
      kill: server.kill,
    };
  }
  // mongo-java-server keeps its data in memory only: on disk, FerretDB on SQLite stands in.
  if (options.dataDir) return startFerretDb(options.dataDir);
  const home = join(servers, 'mongo-java-server');
  const lib = mavenLibrary('mongo-java-server', join(home, 'pom.xml'));
  const server = startLocalProcess('java', [
    '-Xmx512m',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    `${lib}/*`,
    join(home, 'MongoMain.java'),
    String(port),
  ]);
  await waitUntilReady('mongo-java-server', server, () => acceptsConnections(port), START_MS);
  return {
    connection: { uri: `mongodb://127.0.0.1:${port}` },
    description: `mongo-java-server 1.47.0 (no mongod on the PATH; in memory, on Java) on 127.0.0.1:${port}`,
    stop: server.stop,
  };
}
