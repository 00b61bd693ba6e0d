import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalServer, MongoDbConnection } from './backends.js';
import { acceptsConnections, freePort, startLocalProcess, waitUntilReady } from './local-process.js';
import { cacheRoot } from './maven.js';

/** The last FerretDB 1.x, the last with an SQLite backend (2.x needs PostgreSQL with DocumentDB). */
export const FERRETDB_VERSION = 'v1.24.2';
const MODULE = 'github.com/FerretDB/FerretDB';
const START_MS = 30_000;

function run(command: string, args: string[], cwd?: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod' }, maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    const reason = result.error ? `could not run ${command} (${result.error.message}); install Go` : `${command} ${args[0]} exited with ${result.status}`;
    throw new Error(`building FerretDB ${FERRETDB_VERSION} failed: ${reason}\n${(result.stdout + result.stderr).slice(-3000)}`);
  }
  return result.stdout;
}

/**
 * The FerretDB binary, built once from its Go module (through the Go module proxy) and cached. Not with
 * `go install`: the module lacks `build/version/version.txt`, which the binary reads at start and panics
 * without, so it is built from a copy of the module with that file added.
 */
export function ferretDbBinary(): string {
  const home = join(cacheRoot(), `ferretdb-${FERRETDB_VERSION}`);
  const binary = join(home, 'ferretdb');
  if (existsSync(binary)) return binary;
  const { Dir } = JSON.parse(run('go', ['mod', 'download', '-json', `${MODULE}@${FERRETDB_VERSION}`])) as { Dir: string };
  const source = join(home, `source.partial-${process.pid}`);
  mkdirSync(home, { recursive: true });
  try {
    cpSync(Dir, source, { recursive: true });
    chmodSync(join(source, 'build', 'version'), 0o755);
    writeFileSync(join(source, 'build', 'version', 'version.txt'), FERRETDB_VERSION);
    run('go', ['build', '-o', `${binary}.partial-${process.pid}`, './cmd/ferretdb'], source);
    renameSync(`${binary}.partial-${process.pid}`, binary);
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
  return binary;
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
