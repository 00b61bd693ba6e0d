import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached, cacheRoot, runTool } from './cache.js';

/**
 * The runtime jars of a tiny pom, fetched from Maven Central once and cached under a hash of the pom
 * (so a changed pom fetches again). Returns the directory of jars, for `java -cp DIR/*`.
 */
export function mavenLibrary(name: string, pom: string): string {
  const hash = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 12);
  return cached(join(cacheRoot(), `${name}-${hash}`, 'lib'), (partial) => {
    mkdirSync(partial, { recursive: true });
    const args = ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`, '-DincludeScope=runtime'];
    runTool(`fetching ${name} from Maven Central`, 'Maven', 'mvn', args);
  });
}
