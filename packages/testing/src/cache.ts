import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where downloaded and built servers are kept between runs: `KEYVENT_CACHE_DIR`, else `~/.cache/keyvent`. */
export const cacheRoot = (): string => process.env.KEYVENT_CACHE_DIR ?? join(homedir(), '.cache', 'keyvent');

/**
 * `target` (a file or a directory in the cache), made once: `make` writes it at the temporary path it
 * is given, which is renamed into place only when it succeeded, so an interrupted or failed run leaves
 * nothing behind and two runs at once do not see each other's half-made copy.
 */
export function cached(target: string, make: (partial: string) => void): string {
  if (existsSync(target)) return target;
  const partial = `${target}.partial-${process.pid}`;
  mkdirSync(dirname(target), { recursive: true });
  try {
    make(partial);
    if (!existsSync(target)) renameSync(partial, target);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

/**
 * Runs a tool that fetches or builds a server (mvn, go) and returns what it printed; fails with `what`,
 * why (the tool is missing: install `install`; or its exit code) and the tail of its output.
 */
export function runTool(what: string, install: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    const reason = result.error ? `could not run ${command} (${result.error.message}); install ${install}` : `${command} exited with ${result.status}`;
    throw new Error(`${what} failed: ${reason}\n${`${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-3000)}`);
  }
  return result.stdout;
}
