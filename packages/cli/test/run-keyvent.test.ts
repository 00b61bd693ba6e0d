import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { exitWhenPipeCloses } from '../src/run-keyvent.js';
import { STORE_URL_HELP } from '../src/store-url.js';
import { closedPort, keyventProcess } from './keyvent-process.js';

const UNREACHABLE = '127.0.0.1:9/db?serverSelectionTimeoutMS=300';
const root = mkdtempSync(join(tmpdir(), 'keyvent-process-'));
const store = `level:${join(root, 'store')}`;
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  expect(await keyventProcess(['append', 'cart-1', 'Opened', '{}', '-s', store])).toMatchObject({ exitCode: 0, stdout: 'appended cart-1#1 (Opened)\n', stderr: '' });
});

describe('what the keyvent process prints to stderr never carries a URL password', () => {
  it.each([
    ['a password with an @ (driver error)', ['streams', '-s', `mongodb://app:p@Zq9Secret@${UNREACHABLE}`], 1, `keyvent: [mongodb] cannot open mongodb://app:***@${UNREACHABLE}:`],
    ['a password with a space (driver error)', ['streams', '-s', `mongodb://app:ab Zq9Secret@${UNREACHABLE}`], 1, `keyvent: [mongodb] cannot open mongodb://app:***@${UNREACHABLE}:`],
    ['a password with a / (usage error)', ['streams', '-s', 'mongodb://app:ab/Zq9Secret@host:27017/db'], 2, 'keyvent: "mongodb://app:***@host:27017/db" is not a valid URL'],
    ['a password with a / and a space (usage error)', ['streams', '-s', 'mongodb://app:ab/Zq9 Secret@host:27017/db'], 2, 'keyvent: "mongodb://app:***@host:27017/db" is not a valid URL'],
    ["commander's unknown command", ['mongodb://app:Zq9Secret@host/db'], 2, "error: unknown command 'mongodb://app:***@host/db'"],
    ["commander's unexpected argument", ['streams', 'mongodb://app:Zq9Secret@host/db'], 2, "error: too many arguments for 'streams'. Expected 0 arguments but got 1."],
    ["commander's invalid option value", ['streams', '-n', 'mongodb://app:Zq9Secret@host/db'], 2, "error: option '-n, --limit <n>' argument 'mongodb://app:***@host/db' is invalid. mongodb://app:***@host/db is not a limit"],
    ["commander's unknown option", ['streams', '--stor=mongodb://app:Zq9Secret@host/db'], 2, "error: unknown option '--stor=mongodb://app:***@host/db'"],
  ])('%s', async (_, args, exitCode, start) => {
    const run = await keyventProcess(args);
    expect(run.stderr).not.toContain('Zq9');
    expect(run.stderr.slice(0, start.length)).toBe(start);
    expect(run.exitCode).toBe(exitCode);
  });
});

describe('exit code 2 for every mistake in the command line, with one message that says what is accepted', () => {
  it.each([
    ['an expected version that is none of the accepted forms', ['append', 'k', 'T', '{}', '-s', store, '-e', 'banana'], "error: option '-e, --expected-version <version>' argument 'banana' is invalid. banana is not a version: use a whole number >= 0, 'no_stream', 'exists' or 'any'\n"],
    ['a limit of 0', ['streams', '-s', store, '--limit', '0'], "error: option '-n, --limit <n>' argument '0' is invalid. 0 is not a limit: use a whole number from 1 to 10000\n"],
    ['a limit above the store\'s 10000 (was the store\'s refusal, exit 1)', ['streams', '-s', store, '-n', '10001'], "error: option '-n, --limit <n>' argument '10001' is invalid. 10001 is not a limit: use a whole number from 1 to 10000\n"],
    ['a tail interval beyond an hour (setTimeout overflowed to 1 ms polling)', ['tail', 'cart-1', '-s', store, '--from', '1', '--limit', '1', '--interval', '3000000000'], "error: option '--interval <ms>' argument '3000000000' is invalid. 3000000000 is not an interval in milliseconds: use a whole number from 1 to 3600000\n"],
    ['a key and --all for tail', ['tail', 'cart-1', '--all', '-s', store], 'keyvent: tail takes a <key> or --all, not both (got "cart-1" and --all)\n'],
    ['a slice range that is not one', ['tail', '--all', '--slices', '0-2000', '-s', store], "error: option '--slices <from-to>' argument '0-2000' is invalid. 0-2000 is not a slice range: use FROM-TO, whole numbers with 0 <= FROM <= TO <= 1023, e.g. 0-511\n"],
    ['a sequence of 0', ['read', 'cart-1', '-s', store, '--from', '0'], "error: option '--from <sequence>' argument '0' is invalid. 0 is not a sequence: use a whole number >= 1\n"],
    ['a number in another notation', ['copy', store, 'memory:', '--concurrency', '1e3'], "error: option '-c, --concurrency <n>' argument '1e3' is invalid. 1e3 is not a concurrency: use a whole number >= 1\n"],
    ['a missing argument', ['read'], "error: missing required argument 'key'\n"],
    ['an unknown command', ['raed', 'cart-1'], "error: unknown command 'raed'\n"],
    ['a store URL of no known scheme', ['streams', '-s', 'postgres://db/app'], 'keyvent: "postgres://db/app" is not a store URL\nStores are named by URL:'],
    ['a URL that does not parse', ['streams', '-s', 'dynamodb://a b/t'], 'keyvent: "dynamodb://a b/t" is not a valid URL\n'],
    ['a keyspace that is not a CQL identifier, before any connection', ['streams', '-s', 'cassandra://127.0.0.1:9/my-app'], 'keyvent: keyspace: "my-app" is not a CQL identifier: a letter, then up to 47 letters, digits or _ (in cassandra://127.0.0.1:9/my-app)\n'],
    ['data that is not JSON', ['append', 'k', 'T', '{bad', '-s', store], "keyvent: <data> is not valid JSON: Expected property name or '}' in JSON at position 1"],
    ['metadata that is not JSON', ['append', 'k', 'T', '{}', '-s', store, '-m', 'x'], 'keyvent: --metadata is not valid JSON: Unexpected token'],
  ])('%s', async (_, args, start) => {
    const run = await keyventProcess(args);
    expect(run.stderr.slice(0, start.length)).toBe(start);
    expect(run).toMatchObject({ exitCode: 2, stdout: '' });
  });

  it('no command at all: the help, on stderr', async () => {
    const run = await keyventProcess([]);
    expect(run).toMatchObject({ exitCode: 2, stdout: '' });
    expect(run.stderr).toContain('Usage: keyvent [options] [command]');
  });
});

describe('exit code 1 for what the store refuses and for a backend that fails, in one line', () => {
  it.each([
    ['a concurrency conflict', ['append', 'cart-1', 'T', '{}', '-s', store, '-e', '5'], 'keyvent: [level] stream "cart-1": expected version 5, actual version 1; reload the stream and retry the command\n'],
    ['a validation error of the store', ['read', '', '-s', store], 'keyvent: key: must not be empty\n'],
    ['an unreachable server', ['streams', '-s', `mongodb://${UNREACHABLE}`], `keyvent: [mongodb] cannot open mongodb://${UNREACHABLE}: connect ECONNREFUSED 127.0.0.1:9\n`],
  ])('%s', async (_, args, stderr) => {
    expect(await keyventProcess(args)).toMatchObject({ exitCode: 1, stdout: '', stderr });
  });

  it('read of a stream that does not exist: nothing on stdout, why on stderr, exit 1 (as cat of a missing file: a script can test it; 2 is for command-line mistakes)', async () => {
    const run = await keyventProcess(['read', 'cart-9', '-s', store]);
    expect(run).toEqual({ stdout: '', stderr: 'keyvent: stream "cart-9" does not exist (keyvent streams lists the streams)\n', exitCode: 1, elapsedMs: expect.any(Number) });
  });

  it('read of a range past the head of a stream that exists prints nothing and exits 0', async () => {
    expect(await keyventProcess(['read', 'cart-1', '-s', store, '--from', '5'])).toMatchObject({ stdout: '', stderr: '', exitCode: 0 });
  });

  it.each([
    ['mongodb', (port: number) => `mongodb://127.0.0.1:${port}/app`],
    ['cassandra', (port: number) => `cassandra://127.0.0.1:${port}/app`],
    ['dynamodb', (port: number) => `dynamodb://127.0.0.1:${port}/events`],
  ])('a %s server that is not there fails within seconds, in one line without a stack', async (scheme, url) => {
    const run = await keyventProcess(['streams', '-s', url(await closedPort())]);
    expect(run).toMatchObject({ exitCode: 1, stdout: '' });
    expect(run.stderr).toMatch(new RegExp(`^keyvent: \\[${scheme}\\] cannot open ${scheme}://127\\.0\\.0\\.1:\\d+/\\w+: .*ECONNREFUSED.*\\n$`));
    // No retries until a timeout: a refused connection fails at once (the margin is for a busy machine's process start).
    expect(run.elapsedMs).toBeLessThan(20_000);
  }, 60_000);
});

describe('append refuses a number that JSON numbers cannot keep exact', () => {
  it('exits 2 naming 18446744073709551617 (stored today as 18446744073709552000), and stores nothing', async () => {
    const run = await keyventProcess(['append', 'big', 'T', '{"n":[1,2,{"m":18446744073709551617}]}', '-s', store]);
    expect(run).toMatchObject({ exitCode: 2, stdout: '' });
    expect(run.stderr).toBe(
      'keyvent: <data> holds 18446744073709551617, a number beyond 2^53 - 1 (9007199254740991) that JSON numbers cannot keep exact (it would be read as 18446744073709552000): write it as a string, "18446744073709551617"\n',
    );
    expect((await keyventProcess(['read', 'big', '-s', store])).exitCode).toBe(1);
  });

  it('in --metadata too, and below -(2^53 - 1)', async () => {
    const run = await keyventProcess(['append', 'big', 'T', '{}', '-s', store, '-m', '{"n":-9007199254740993}']);
    expect(run).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/^keyvent: --metadata holds -9007199254740993, a number beyond/) });
  });
});

describe('a refused append opens no store: what can be checked without the store is checked first, as a usage error (exit 2)', () => {
  let count = 0;
  it.each([
    ['a number beyond a double (was exit 1)', ['append', 'k', 'T', '{"n":1e400}'], 'keyvent: <data> holds 1e400, a number beyond 2^53 - 1 (9007199254740991) that JSON numbers cannot keep exact (it would be read as Infinity): write it as a string, "1e400"\n'],
    ['-0 (was exit 1)', ['append', 'k', 'T', '[0,-0]'], 'keyvent: <data> holds -0, a negative zero that JSON does not keep (it reads back as 0): write 0\n'],
    ['an empty key', ['append', '', 'T', '{}'], 'keyvent: <key>: must not be empty\n'],
    ['an empty type', ['append', 'k', '', '{}'], 'keyvent: <type>: must be a non-empty string\n'],
    ['a lone surrogate in the data', ['append', 'k', 'T', '{"name":"\\ud800"}'], 'keyvent: <data>.name: string contains a lone surrogate\n'],
    ['metadata that is not an object', ['append', 'k', 'T', '{}', '-m', '[1]'], 'keyvent: --metadata: must be a plain object\n'],
    ['a correlationId that is not a string', ['append', 'k', 'T', '{}', '-m', '{"correlationId":7}'], 'keyvent: --metadata.correlationId: must be a string\n'],
    ['an expected version whose next event would pass sequence 2^53 - 1', ['append', 'k', 'T', '{}', '-e', '9007199254740991'], 'keyvent: --expected-version: the commit would pass sequence 2^53 - 1\n'],
  ])('%s', async (_, args, stderr) => {
    const level = join(root, `never-created-${++count}`);
    expect(await keyventProcess([...args, '-s', `level:${level}`])).toMatchObject({ exitCode: 2, stdout: '', stderr });
    expect(existsSync(level)).toBe(false);
  });

  it('an expected version the store does not match needs the store: exit 1, nothing appended, but a missing store is created (documented)', async () => {
    const created = join(root, 'created-by-a-refused-append');
    const run = await keyventProcess(['append', 'k', 'T', '{}', '-e', '5', '-s', `level:${created}`]);
    expect(run).toMatchObject({ exitCode: 1, stdout: '', stderr: 'keyvent: [level] stream "k": expected version 5, actual version 0; reload the stream and retry the command\n' });
    expect(existsSync(created)).toBe(true);
    expect(await keyventProcess(['streams', '-s', `level:${created}`])).toMatchObject({ exitCode: 0, stdout: '' });
  });
});

describe('version and help', () => {
  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(await keyventProcess(['--version'])).toMatchObject({ stdout: `${version}\n`, stderr: '', exitCode: 0 });
  });

  it.each([[[]], [['streams']], [['read']], [['append']], [['tail']], [['consumers']], [['copy']], [['bench']]])('help of %j: on stdout, exit 0, with the store URL forms', async (command) => {
    const run = await keyventProcess([...command, '--help']);
    expect(run).toMatchObject({ stderr: '', exitCode: 0 });
    expect(run.stdout).toContain(STORE_URL_HELP);
  });
});

describe('a reader that closes the pipe early (keyvent read … | head)', () => {
  const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
  const diskFull = () => Object.assign(new Error('disk full'), { code: 'ENOSPC' });

  it('exits 141 (128 + SIGPIPE) on EPIPE of stdout, as Unix tools do, so that set -o pipefail sees a command that did not finish; ignores EPIPE on stderr; leaves other errors loud', () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    exitWhenPipeCloses(stdout, stderr);
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as typeof process.exit);
    try {
      stdout.emit('error', epipe());
      expect(exit).toHaveBeenCalledWith(141);
      expect(() => stderr.emit('error', epipe())).not.toThrow();
      expect(exit).toHaveBeenCalledTimes(1);
      expect(() => stdout.emit('error', diskFull())).toThrow('disk full');
      expect(() => stderr.emit('error', diskFull())).toThrow('disk full');
    } finally {
      exit.mockRestore();
    }
  });
});
