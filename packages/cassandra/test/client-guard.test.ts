import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Client } from 'cassandra-driver';
import type { RunningBackend } from '@keyvent/testing';
import { cassandraForTests } from './backend.js';

let backend: RunningBackend<'cassandra'>;
let client: Client;
let keyspace: string;

beforeAll(async () => {
  ({ backend, client, keyspace } = await cassandraForTests());
}, 180_000);
afterAll(async () => {
  await client?.shutdown();
  await backend?.stop();
});

/** Runs reset-storm.mjs; resolves with its exit and output, or with `hung` if it has not exited by `boundMs`. */
function resetStorm(appends: number, boundMs: number) {
  const script = fileURLToPath(new URL('./reset-storm.mjs', `file://${__filename}`));
  const child = spawn(process.execPath, [script, backend.connection.contactPoints[0]!, keyspace, String(appends)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, stdout, stderr, hung: true });
    }, boundMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung: false });
    });
  });
}

// cassandra-driver 4.10 without keyvent's guard (client-guard.ts): concurrent control-connection refreshes
// threw an uncaught TypeError, each append waited out a 12 s read timeout, and orphaned connection pools
// kept the process alive for minutes after close. A round takes well under a second here.
it('a process whose client sees 300 connection resets stays up, keeps every append true, and exits once the store is closed', async () => {
  const run = await resetStorm(300, 240_000);
  expect({ hung: run.hung, code: run.code, stderr: run.stderr.split('\n').filter((line) => /TypeError|Unhandled|uncaught|MaxListeners/i.test(line)) }).toEqual({ hung: false, code: 0, stderr: [] });
  const { resets, outcomes, timers } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { resets: number; outcomes: Record<string, number>; timers: number };
  expect({ resets, outcomes }).toMatchObject({ resets: 300 });
  expect(timers).toBe(0);
  // New streams at version 0: every append is acknowledged (its resend finds its own ids) or retryable.
  expect(Object.keys(outcomes).filter((outcome) => outcome !== 'acknowledged' && outcome !== 'KEYVENT_DRIVER')).toEqual([]);
  expect(outcomes.acknowledged).toBeGreaterThan(250);
}, 300_000);

// A client whose connect fails (its keyspace missing): the driver's reset clears client.hosts; the guard
// must leave those pools to it (draining them left a ref'd fallback timer of readTimeout, 12.1 s).
it('leaves nothing that keeps the process alive after a client whose connect failed is closed', async () => {
  const run = await resetStorm(0, 120_000);
  expect({ hung: run.hung, code: run.code }).toEqual({ hung: false, code: 0 });
  const { outcomes, timers } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { outcomes: Record<string, number>; timers: number };
  expect(outcomes.acknowledged).toBeUndefined();
  expect(timers).toBe(0);
}, 180_000);

// The node unreachable for 8 s: cassandra-driver schedules each next try of its control connection on a
// ref'd timer of up to 10 minutes that its shutdown never clears; the guard waits those out on its own.
it('leaves nothing that keeps the process alive after a store closed during an outage of its node', async () => {
  const run = await resetStorm(-1, 120_000);
  expect({ hung: run.hung, code: run.code }).toEqual({ hung: false, code: 0 });
  const { outcomes, timers } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { outcomes: Record<string, number>; timers: number };
  expect(outcomes).toEqual({ acknowledged: 1 });
  expect(timers).toBe(0);
}, 180_000);
