import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalServer, MongoDbConnection } from './backends.js';
import { cached, cacheRoot, runTool } from './cache.js';
import { acceptsConnections, freePort, startLocalProcess, waitUntilReady } from './local-process.js';

/** The last FerretDB 1.x, the last with an SQLite backend (2.x needs PostgreSQL with DocumentDB). */
export const FERRETDB_VERSION = 'v1.24.2';
const MODULE = 'github.com/FerretDB/FerretDB';
const START_MS = 30_000;

/**
 * The FerretDB binary, built once from its Go module (through the Go module proxy) and cached. Not with
 * `go install`: the module lacks `build/version/version.txt`, which the binary reads at start and panics
 * without, so it is built from a copy of the module with that file added.
 */
export function ferretDbBinary(): string {
  const what = `building FerretDB ${FERRETDB_VERSION}`;
  return cached(join(cacheRoot(), `ferretdb-${FERRETDB_VERSION}`, 'ferretdb'), (partial) => {
    const env = { GOFLAGS: '-mod=mod' };
    const { Dir } = JSON.parse(runTool(what, 'Go', 'go', ['mod', 'download', '-json', `${MODULE}@${FERRETDB_VERSION}`], { env })) as { Dir: string };
    const source = `${partial}.source`;
    try {
      cpSync(Dir, source, { recursive: true });
      chmodSync(join(source, 'build', 'version'), 0o755);
      writeFileSync(join(source, 'build', 'version', 'version.txt'), FERRETDB_VERSION);
      runTool(what, 'Go', 'go', ['build', '-o', partial, './cmd/ferretdb'], { cwd: source, env });
    } finally {
      rmSync(source, { recursive: true, force: true });
    }
  });
}

/**
 * FerretDB on its SQLite backend, keeping its data in `dataDir` (SQLite in WAL mode, synchronous: a
 * committed write is in the log file before it is acknowledged). The MongoDB-protocol server on disk for
 * crash tests where no `mongod` is installed.
 */
export async function startFerretDb(dataDir: string): Promise<LocalServer<MongoDbConnection>> {
  const binary = ferretDbBinary();
  const port = await freePort();
  const sqlite = join(dataDir, 'ferretdb');
  mkdirSync(sqlite, { recursive: true });
  const server = startLocalProcess(binary, [
    '--handler=sqlite',
    `--sqlite-url=file:${sqlite}/`,
    `--listen-addr=127.0.0.1:${port}`,
    '--state-dir=-',
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=warn',
  ]);
  await waitUntilReady(`FerretDB ${FERRETDB_VERSION}`, server, () => acceptsConnections(port), START_MS);
  return {
    connection: { uri: `mongodb://127.0.0.1:${port}` },
    description: `FerretDB ${FERRETDB_VERSION} (SQLite backend, on disk) on 127.0.0.1:${port}`,
    stop: server.stop,
    kill: server.kill,
  };
}
