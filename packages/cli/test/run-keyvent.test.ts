import { describe, expect, it, jest } from '@jest/globals';
import { runKeyvent } from '../src/run-keyvent.js';

const UNREACHABLE = '127.0.0.1:9/db?serverSelectionTimeoutMS=300';

/** Runs the command as the binary does and returns what it wrote to this process's stdout and stderr. */
async function keyventProcess(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const written = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') =>
    jest.spyOn(process[stream], 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written[stream] += String(chunk);
      return true;
    }) as typeof process.stdout.write);
  const spies = [capture('stdout'), capture('stderr')];
  try {
    const exitCode = await runKeyvent(['node', 'keyvent', ...args]);
    return { ...written, exitCode };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('what the keyvent process prints to stderr never carries a URL password', () => {
  it.each([
    ['a password with an @ (driver error)', ['streams', '-s', `mongodb://app:p@Zq9Secret@${UNREACHABLE}`], 1, `keyvent: [mongodb] cannot open mongodb://app:***@${UNREACHABLE}:`],
    ['a password with a space (driver error)', ['streams', '-s', `mongodb://app:ab Zq9Secret@${UNREACHABLE}`], 1, `keyvent: [mongodb] cannot open mongodb://app:***@${UNREACHABLE}:`],
    ['a password with a / (usage error)', ['streams', '-s', 'mongodb://app:ab/Zq9Secret@host:27017/db'], 2, 'keyvent: "mongodb://app:***@host:27017/db" is not a valid URL'],
    ['a password with a / and a space (usage error)', ['streams', '-s', 'mongodb://app:ab/Zq9 Secret@host:27017/db'], 2, 'keyvent: "mongodb://app:***@host:27017/db" is not a valid URL'],
    ["commander's unknown command", ['mongodb://app:Zq9Secret@host/db'], 1, "error: unknown command 'mongodb://app:***@host/db'"],
    ["commander's unexpected argument", ['streams', 'mongodb://app:Zq9Secret@host/db'], 1, "error: too many arguments for 'streams'. Expected 0 arguments but got 1."],
    ["commander's invalid option value", ['streams', '-n', 'mongodb://app:Zq9Secret@host/db'], 1, "error: option '-n, --limit <n>' argument 'mongodb://app:***@host/db' is invalid. expected a whole number"],
    ["commander's unknown option", ['streams', '--stor=mongodb://app:Zq9Secret@host/db'], 1, "error: unknown option '--stor=mongodb://app:***@host/db'"],
  ])('%s', async (_, args, exitCode, start) => {
    const run = await keyventProcess(args);
    expect(run.stderr).not.toContain('Zq9');
    expect(run.stderr.slice(0, start.length)).toBe(start);
    expect(run.exitCode).toBe(exitCode);
  });

  it('prints --help to stdout and exits 0', async () => {
    const run = await keyventProcess(['--help']);
    expect(run).toMatchObject({ stderr: '', exitCode: 0 });
    expect(run.stdout).toContain('Stores are named by URL:');
  });
});
