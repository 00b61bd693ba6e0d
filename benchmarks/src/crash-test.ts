#!/usr/bin/env node
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openStore } from '@keyvent/cli';
import { startLocalServer, type BackendName } from '@keyvent/testing';
import { storeUrl } from './backends.js';

export const CRASHABLE = ['level', 'dynamodb', 'azure-tables', 'cassandra', 'mongodb'] as const;
export type Crashable = (typeof CRASHABLE)[number];
// The writer runs compiled (also when this module runs from its TypeScript source, in the tests).
const writerScript = fileURLToPath(new URL('crash-writer.js', import.meta.url)).replace(/\/src\/crash-writer\.js$/, '/dist/crash-writer.js');

const FIRST_ACK_MS = 60_000;

interface Ack {
  key: string;
  first: number;
  commit: string;
  size: number;
}

export interface CrashReport {
  kills: number;
  acknowledged: number;
  /** Acknowledged commits missing after a restart. */
  lost: string[];
  /** Commits of which only some events are visible, or events out of place. */
  partial: string[];
  storedEvents: number;
  /** Commits stored whose acknowledgement never reached the writer: they were in flight at a kill. */
  unacknowledgedStored: number;
}

/** Starts the writer; resolves once it is ready, collecting every acknowledgement it prints. */
function startWriter(url: string, prefix: string, streams: number, acks: Ack[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [writerScript, url, prefix, String(streams)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the writer exited early (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') resolve(child);
      else if (line.startsWith('ack ')) acks.push(JSON.parse(line.slice(4)) as Ack);
    });
  });
}

/** Resolves once the writer has had a commit acknowledged since `before`; fails if none comes in time. */
async function firstAcknowledgement(acks: Ack[], before: number, writer: ChildProcess): Promise<void> {
  const deadline = Date.now() + FIRST_ACK_MS;
  while (acks.length === before) {
    if (Date.now() > deadline) {
      await killed(writer);
      throw new Error(`the writer had no commit acknowledged within ${FIRST_ACK_MS / 1000} s of starting`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const killed = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGKILL'))));

/** Reads every stream back and checks it against the acknowledgements. */
async function verify(url: string, prefix: string, streams: number, acks: Ack[], report: CrashReport): Promise<void> {
  const store = await openStore(url);
  try {
    const found = new Map<string, { first: number; count: number; size: number }>();
    report.storedEvents = 0;
    for (let s = 0; s < streams; s++) {
      const key = `${prefix}/${s}`;
      let expected = 1;
      for await (const event of store.readStream(key)) {
        report.storedEvents++;
        const data = event.data as { commit: string; size: number; i: number };
        if (event.sequence !== expected) report.partial.push(`${key}: sequence ${event.sequence} where ${expected} was due`);
        expected = event.sequence + 1;
        const commit = found.get(data.commit) ?? { first: event.sequence - data.i, count: 0, size: data.size };
        if (event.sequence !== commit.first + data.i) report.partial.push(`${key}#${event.sequence}: event ${data.i} of commit ${data.commit} out of place`);
        commit.count++;
        found.set(data.commit, commit);
      }
    }
    for (const [commit, { count, size }] of found) if (count !== size) report.partial.push(`commit ${commit}: ${count} of ${size} events visible`);
    for (const ack of acks) {
      const commit = found.get(ack.commit);
      if (!commit || commit.first !== ack.first) report.lost.push(`${ack.key}: acknowledged commit ${ack.commit} at ${ack.first} is missing`);
    }
    const acknowledged = new Set(acks.map((ack) => ack.commit));
    report.unacknowledgedStored = [...found.keys()].filter((commit) => !acknowledged.has(commit)).length;
  } finally {
    await store.close();
  }
}

export interface CrashOptions {
  kills: number;
  streams: number;
  /** How long commits flow after the first acknowledgement before the kill: a random time in [min, max] ms. */
  writeMs?: [number, number];
  log: (line: string) => void;
}

/**
 * Crash consistency: the backend keeps its data on disk; a writer appends commits; the server (for
 * LevelDB, the writer process that embeds it) is SIGKILLed mid-commits; it is restarted on the same
 * data and every stream is checked: every acknowledged commit is there, no commit is partly visible.
 */
export async function runCrashTest(backend: Crashable, options: CrashOptions): Promise<CrashReport> {
  const [minMs, maxMs] = options.writeMs ?? [300, 1500];
  const dataDir = await mkdtemp(join(tmpdir(), `keyvent-crash-${backend}-`));
  const prefix = `crash/${Date.now().toString(36)}`;
  const acks: Ack[] = [];
  const report: CrashReport = { kills: 0, acknowledged: 0, lost: [], partial: [], storedEvents: 0, unacknowledgedStored: 0 };
  try {
    for (let round = 1; round <= options.kills; round++) {
      const server = backend === 'level' ? undefined : await startLocalServer(backend as BackendName, { dataDir });
      try {
        const url = server ? storeUrl({ name: backend as BackendName, connection: server.connection }, 'crash') : `level:${dataDir}`;
        const before = acks.length;
        const writer = await startWriter(url, prefix, options.streams, acks);
        // Kill only once commits flow (one is acknowledged), at a random moment in the middle of them.
        await firstAcknowledgement(acks, before, writer);
        await new Promise((resolve) => setTimeout(resolve, minMs + Math.random() * (maxMs - minMs)));
        if (server) await server.kill!();
        else await killed(writer);
        await killed(writer);
        report.kills++;
        if (server) {
          const restarted = await startLocalServer(backend as BackendName, { dataDir });
          try {
            await verify(storeUrl({ name: backend as BackendName, connection: restarted.connection }, 'crash'), prefix, options.streams, acks, report);
          } finally {
            await restarted.stop();
          }
        } else {
          await verify(url, prefix, options.streams, acks, report);
        }
        options.log(`kill ${round}: ${acks.length - before} commits acknowledged this round, ${report.storedEvents} events stored (${report.unacknowledgedStored} unacknowledged), lost ${report.lost.length}, partial ${report.partial.length}`);
      } finally {
        await server?.stop();
      }
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  report.acknowledged = acks.length;
  // Each restart re-checks everything, so a problem seen after several kills is listed once.
  return { ...report, lost: [...new Set(report.lost)], partial: [...new Set(report.partial)] };
}

