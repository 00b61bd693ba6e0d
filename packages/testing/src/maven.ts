import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where downloaded servers are kept between runs: `KEYVENT_CACHE_DIR`, else `~/.cache/keyvent`. */
export const cacheRoot = (): string => process.env.KEYVENT_CACHE_DIR ?? join(homedir(), '.cache', 'keyvent');

/**
 * The runtime jars of a tiny pom, fetched from Maven Central once and cached under a hash of the pom
 * (so a changed pom fetches again). Returns the directory of jars, for `java -cp DIR/*`.
 */
export function mavenLibrary(name: string, pom: string): string {
  const hash = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 12);
  const lib = join(cacheRoot(), `${name}-${hash}`, 'lib');
  if (existsSync(lib)) return lib;
  const partial = `${lib}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true });
  const result = spawnSync('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`, '-DincludeScope=runtime'], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    const reason = result.error ? `could not run mvn (${result.error.message}); install Maven` : `mvn exited with ${result.status}`;
    throw new Error(`fetching ${name} from Maven Central failed: ${reason}\n${(result.stdout + result.stderr).slice(-3000)}`);
  }
  if (!existsSync(lib)) renameSync(partial, lib);
  else rmSync(partial, { recursive: true, force: true });
  return lib;
}
