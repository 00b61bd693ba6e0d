import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { SCHEME_PACKAGES } from '../src/optional-packages.js';
import { keyventProcess } from './keyvent-process.js';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;

/** What Node's `import` throws for a package that is not installed. */
function notInstalled(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/@keyvent/cli/dist/server-stores.js`), { code: 'ERR_MODULE_NOT_FOUND' });
}

describe('server drivers and their SDKs are optional for the CLI', () => {
  let mocked: string | undefined;
  afterEach(() => {
    if (mocked) jest.dontMock(mocked);
    delete process.env.KEYVENT_AZURE_TABLES_CONNECTION;
  });

  it('package.json: each scheme package is an optional peer (and a dev dependency for these tests), never a dependency', () => {
    for (const name of Object.values(SCHEME_PACKAGES).flat()) {
      expect(manifest.dependencies).not.toHaveProperty([name]);
      expect(manifest.peerDependencies).toHaveProperty([name]);
      expect(manifest.peerDependenciesMeta).toHaveProperty([name], { optional: true });
      expect(manifest.devDependencies).toHaveProperty([name], manifest.peerDependencies![name]);
    }
  });

  it.each([
    ['dynamodb://127.0.0.1:9/events', '@aws-sdk/client-dynamodb', 'keyvent: [dynamodb] dynamodb stores need packages that are not installed: npm install @keyvent/dynamodb @aws-sdk/client-dynamodb@^3.1169.0 (beside @keyvent/cli; with -g if it is global)\n'],
    ['mongodb://127.0.0.1:9/app', 'mongodb', 'keyvent: [mongodb] mongodb stores need packages that are not installed: npm install @keyvent/mongodb mongodb@^7.0.0 (beside @keyvent/cli; with -g if it is global)\n'],
    ['cassandra://127.0.0.1:9/app', '@keyvent/cassandra', 'keyvent: [cassandra] cassandra stores need packages that are not installed: npm install @keyvent/cassandra cassandra-driver@^4.10.0 (beside @keyvent/cli; with -g if it is global)\n'],
    ['azure-tables:events', '@azure/data-tables', 'keyvent: [azure-tables] azure-tables stores need packages that are not installed: npm install @keyvent/azure-tables @azure/data-tables@^13.3.2 (beside @keyvent/cli; with -g if it is global)\n'],
  ])('%s without %s installed: one line saying what to npm install, exit 1', async (url, missing, stderr) => {
    process.env.KEYVENT_AZURE_TABLES_CONNECTION = 'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/a;';
    mocked = missing;
    jest.doMock(missing, () => {
      throw notInstalled(missing);
    });
    expect(await keyventProcess(['streams', '-s', url])).toMatchObject({ exitCode: 1, stdout: '', stderr });
  });

  it('the CLI loads, and works on a LevelDB store, with none of them installed', async () => {
    const all = Object.values(SCHEME_PACKAGES).flat();
    for (const name of all) {
      jest.doMock(name, () => {
        throw notInstalled(name);
      });
    }
    const printed = jest.spyOn(console, 'log').mockImplementation(() => {});
    const location = mkdtempSync(join(tmpdir(), 'keyvent-no-sdk-'));
    try {
      await jest.isolateModulesAsync(async () => {
        const { runKeyvent } = await import('../src/run-keyvent.js');
        expect(await runKeyvent(['node', 'keyvent', 'append', 'k', 'T', '1', '-s', `level:${location}`])).toBe(0);
        expect(await runKeyvent(['node', 'keyvent', 'streams', '-s', `level:${location}`])).toBe(0);
      });
      expect(printed.mock.calls).toEqual([['appended k#1 (T)'], ['k']]);
    } finally {
      printed.mockRestore();
      for (const name of all) jest.dontMock(name);
      rmSync(location, { recursive: true, force: true });
    }
  });
});
