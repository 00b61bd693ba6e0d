import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { runCrashTest } from '../src/crash-test.js';

// The small version of `pnpm crash`: a few SIGKILLs per run (RELIABILITY.md has the 50-kill runs).
describe('crash consistency (SIGKILL mid-commit, restart, check)', () => {
  it('the compiled writer exists (pnpm build)', () => {
    expect(existsSync(new URL('../dist/crash-writer.js', `file://${__filename}`))).toBe(true);
  });

  // LevelDB, MongoDB on FerretDB (SQLite) where no mongod is installed, and Cassandra (which keeps what it
  // acknowledges only with the group commit log that startLocalServer configures: this guards it). Not
  // DynamoDB Local and Azurite: they lose acknowledged writes when killed, with their own clients too.
  // RELIABILITY.md has the 50-kill runs of all of them.
  it.each([['level', 3], ['mongodb', 3], ['cassandra', 2]] as const)('%s keeps every acknowledged commit and shows no partial one after %i kills', async (backend, kills) => {
    const report = await runCrashTest(backend, { kills, streams: 4, log: () => {} });
    expect(report.kills).toBe(kills);
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.lost).toEqual([]);
    expect(report.partial).toEqual([]);
  }, 600_000);
});
