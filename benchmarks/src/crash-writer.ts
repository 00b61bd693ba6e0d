#!/usr/bin/env node
// The writer of the crash test: appends commits of 1–5 events at exact versions to its streams, one
// commit at a time per stream, and prints a line for each acknowledged commit. It runs until killed.
import { randomUUID } from 'node:crypto';
import { openStore } from '@keyvent/cli';

const [url, prefix, streamCount] = process.argv.slice(2);
const store = await openStore(url!);
const keys = Array.from({ length: Number(streamCount) }, (_, i) => `${prefix}/${i}`);

async function write(key: string): Promise<void> {
  let version = await store.streamVersion(key);
  for (;;) {
    const commit = randomUUID();
    const size = 1 + Math.floor(Math.random() * 5);
    const events = Array.from({ length: size }, (_, i) => ({ type: 'Written', data: { commit, size, i, pad: 'x'.repeat(200) }, id: `${commit}/${i}` }));
    try {
      await store.append(key, events, { expectedVersion: version });
      version += size;
      // A pipe's writes are synchronous on Linux: once the append resolved, the line is out before a kill.
      process.stdout.write(`ack ${JSON.stringify({ key, first: version - size + 1, commit, size })}\n`);
    } catch {
      // The server is going down: look again at the version (the commit may or may not have landed).
      await new Promise((resolve) => setTimeout(resolve, 50));
      version = await store.streamVersion(key).catch(() => version);
    }
  }
}

process.stdout.write('ready\n');
await Promise.all(keys.map(write));
