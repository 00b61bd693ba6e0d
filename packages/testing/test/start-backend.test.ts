import { afterEach, describe, expect, it } from '@jest/globals';
import { startBackend } from '@keyvent/testing';
import { startLocalProcess, waitUntilReady } from '../src/local-process.js';

describe('startBackend', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('uses the endpoint named in the environment and starts nothing', async () => {
    process.env.KEYVENT_MONGODB_URI = 'mongodb://127.0.0.1:1/keyvent';
    const backend = await startBackend('mongodb');
    expect(backend).toMatchObject({ source: 'environment', connection: { uri: 'mongodb://127.0.0.1:1/keyvent' } });
    await backend.stop();
  });

  it('reads Cassandra contact points as a comma-separated list', async () => {
    process.env.KEYVENT_CASSANDRA_CONTACT_POINTS = '127.0.0.1:9042,127.0.0.2:9042';
    const backend = await startBackend('cassandra');
    expect(backend.connection.contactPoints).toEqual(['127.0.0.1:9042', '127.0.0.2:9042']);
  });
});

describe('local server processes', () => {
  it('fails with the exit status and the last output of a server that dies', async () => {
    const server = startLocalProcess(process.execPath, ['-e', 'console.error("port already taken"); process.exit(3)']);
    await expect(waitUntilReady('Test server', server, async () => false, 10_000)).rejects.toThrow(
      /Test server did not start: .* exited with code 3\.\n--- its last output ---\nport already taken/,
    );
  });

  it('stops a server that never answers and says how long it waited', async () => {
    const server = startLocalProcess(process.execPath, ['-e', 'console.log("starting"); setTimeout(() => {}, 60_000)']);
    await expect(waitUntilReady('Slow server', server, async () => false, 500)).rejects.toThrow(
      /Slow server did not answer within 0.5 s\.\n--- its last output ---\nstarting/,
    );
    await expect(server.exited).resolves.toMatch(/exited with SIGTERM/);
  });
});
