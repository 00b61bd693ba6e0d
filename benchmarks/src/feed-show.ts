#!/usr/bin/env node
// The change feed under kills: writer and consumer processes on one backend, SIGKILLed and restarted
// while they work, then every stream read back and every consumer's log checked against it.
//   pnpm feed-show -- --backend mongodb [--seconds 20]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { openStoreAndDriver } from '@keyvent/cli';
import { createStore, sliceOf, type EventStore } from '@keyvent/core';
import { cliArguments, prepareBackend, type Backend } from './backends.js';
import type { WorkerConfig } from './feed-worker.js';

// The worker runs compiled (also when this module runs from its TypeScript source, in the tests).
const workerScript = fileURLToPath(new URL('feed-worker.js', import.meta.url)).replace(/\/src\/feed-worker\.js$/, '/dist/feed-worker.js');

/** The feed's timings in the show: a writer 3 s behind stays inside settleMs − restampAfterMs. */
export const SHOW_FEED = { settleMs: 6_000, liveLagMs: 100, restampAfterMs: 2_000 } as const;

export interface FeedShowOptions {
  seconds?: number;
  writers?: number;
  consumerKills?: number;
  writerKills?: number;
  /** How far behind the first writer's clock runs. */
  skewMs?: number;
  streams?: number;
  log?: (line: string) => void;
}

export interface FeedShowReport {
  acknowledgedCommits: number;
  storedEvents: number;
  consumerKills: number;
  writerKills: number;
  /** Per consumer name: events delivered (repeats included), repeats after a kill, repeats of slow commits. */
  consumers: Record<string, { delivered: number; repeatedAfterKill: number; repeatedSlowCommit: number }>;
  /** The rival workers (one name, overlapping ranges, started in the same millisecond): which ran, which was refused. */
  rivals: { running: string[]; refused: string[] };
  /** Events the writer with the feed off part-time stored without a position. */
  feedOffEvents: number;
  /** Everything that breaks a guarantee; empty when the show passed. */
  problems: string[];
  /** Time from acknowledgement to first delivery to the solo consumer, ms: the skewed writer's and the others'. */
  lagMs: { skewed: Percentiles; others: Percentiles };
}

interface Percentiles {
  p50: number;
  p99: number;
  count: number;
}

interface Ack {
  key: string;
  first: number;
  ids: string[];
  ms: number;
  at: number;
  writer: number;
}

interface Worker {
  role: 'writer' | 'consumer';
  config: WorkerConfig;
  index: number;
  child?: ChildProcess;
  /** A consumer whose range was refused: what it said. */
  refused?: string;
}

interface ConsumerSpec {
  name: string;
  slices: [number, number];
  worker: string;
  /** Started in the same millisecond as the other rival, with an overlapping range; not killed. */
  rival?: boolean;
}

const CONSUMERS: ConsumerSpec[] = [
  { name: 'shared', slices: [0, 511], worker: 'shared-low' },
  { name: 'shared', slices: [512, 1023], worker: 'shared-high' },
  { name: 'solo', slices: [0, 1023], worker: 'solo' },
  { name: 'rival', slices: [0, 700], worker: 'rival-a', rival: true },
  { name: 'rival', slices: [300, 1023], worker: 'rival-b', rival: true },
];
/** The writer whose commits go through a store with the feed off every other FEED_OFF_MS. */
const FEED_OFF_WRITER = 1;
const FEED_OFF_MS = 2_500;

/** Runs the show on a store URL (a fresh namespace); the backend must be running. */
export async function runFeedShowOn(url: string, options: FeedShowOptions = {}): Promise<FeedShowReport> {
  const { seconds = 20, writers = 4, consumerKills = 5, writerKills = 5, skewMs = 3_000, streams = 24, log = () => {} } = options;
  const directory = await mkdtemp(join(tmpdir(), 'keyvent-feed-show-'));
  // Opening creates the tables, before any worker races to.
  const { store } = await openStoreAndDriver(url);
  const acks: Ack[] = [];
  const keys = Array.from({ length: streams }, (_, i) => `show/${i}`);
  // The rivals start at one instant, a few seconds ahead: time for both processes to be up.
  const startAt = Date.now() + 4_000;
  const workers: Worker[] = [
    ...CONSUMERS.map(({ rival, ...consumer }, index): Worker => ({ role: 'consumer', index, config: { feed: SHOW_FEED, ...consumer, log: join(directory, `${consumer.worker}.log`), ...(rival ? { startAt } : {}) } })),
    ...Array.from({ length: writers }, (_, index): Worker => ({
      role: 'writer',
      index,
      config: { feed: { ...SHOW_FEED, skewMs: index === 0 ? skewMs : 0 }, keys, ...(index === FEED_OFF_WRITER ? { feedOffMs: FEED_OFF_MS } : {}) },
    })),
  ];
  const killable = (worker: Worker) => !(worker.role === 'consumer' && CONSUMERS[worker.index]!.rival);
  try {
    await Promise.all(workers.map((worker) => start(url, worker, acks)));
    log(`${writers} writers (writer 0's clock ${skewMs} ms behind, writer ${FEED_OFF_WRITER} with the feed off every other ${FEED_OFF_MS} ms) and ${CONSUMERS.length} consumers running for ${seconds} s`);
    const kills = [...Array(consumerKills).fill('consumer'), ...Array(writerKills).fill('writer')].sort(() => Math.random() - 0.5) as Worker['role'][];
    for (const [i, role] of kills.entries()) {
      await sleep((seconds * 1000) / (kills.length + 1));
      const candidates = workers.filter((worker) => worker.role === role && killable(worker));
      const victim = candidates[i % candidates.length]!;
      victim.child!.kill('SIGKILL');
      log(`killed ${role} ${victim.index}`);
      await start(url, victim, acks);
    }
    await sleep((seconds * 1000) / (kills.length + 1));
    for (const worker of workers.filter((w) => w.role === 'writer')) worker.child!.kill('SIGKILL');
    // A last commit with the feed on to every stream: the feed-off writer's last events reach consumers before it.
    const closing = createStore({ ...(await openStoreAndDriver(url)).driver }, { feed: SHOW_FEED });
    for (const key of keys) await closing.append(key, { type: 'Closed', data: null }, { expectedVersion: 'any' });
    await closing.close();
    // A killed writer's last request may still land on the server: read the streams until they stay put.
    let truth = await readBack(store, keys);
    for (let settled = false; !settled; ) {
      log(`writers stopped: ${acks.length} commits acknowledged, ${countOf(truth)} events stored; waiting for the consumers`);
      await drained(directory, running(workers), truth, SHOW_FEED.settleMs * 3 + 30_000, log);
      const again = await readBack(store, keys);
      settled = countOf(again) === countOf(truth);
      truth = again;
    }
    const report = await check(directory, running(workers), truth, acks, { consumerKills, writerKills });
    const rivals = workers.filter((worker) => worker.role === 'consumer' && CONSUMERS[worker.index]!.rival);
    const refused = rivals.filter((worker) => worker.refused).map((worker) => CONSUMERS[worker.index]!.worker);
    report.rivals = { running: rivals.filter((worker) => !worker.refused).map((worker) => CONSUMERS[worker.index]!.worker), refused };
    if (refused.length !== 1) report.problems.push(`of the two rival workers, ${refused.length} were refused (exactly one must run)`);
    report.feedOffEvents = await countFeedOff(url, keys);
    if (report.feedOffEvents === 0) report.problems.push('the writer with the feed off part-time stored nothing without a position');
    return report;
  } finally {
    for (const worker of workers) worker.child?.kill('SIGKILL');
    await store.close();
    if (!process.env.KEYVENT_KEEP_SHOW) await rm(directory, { recursive: true, force: true });
    else log(`logs kept in ${directory}`);
  }
}

/** Starts a worker; resolves once it is ready. A writer's acknowledgements go into `acks`. */
function start(url: string, worker: Worker, acks: Ack[]): Promise<void> {
  // The environment passed on explicitly: under Jest, process.env is the test's copy (it holds the
  // backend's credentials that storeUrl set), not the one a child would inherit.
  const child = spawn(process.execPath, [workerScript, worker.role, url, JSON.stringify(worker.config)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
  worker.child = child;
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    const early = (code: number | null) => reject(new Error(`${worker.role} ${worker.index} exited before it was ready (${code})`));
    child.once('exit', early);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') {
        child.off('exit', early);
        resolve();
      } else if (line.startsWith('refused ')) worker.refused = line.slice(8); else if (line.startsWith('ack ')) acks.push({ ...(JSON.parse(line.slice(4)) as Omit<Ack, 'at' | 'writer'>), at: Date.now(), writer: worker.index });
    });
  });
}

/** The consumers that run (a refused rival is left out). */
const running = (workers: Worker[]): ConsumerSpec[] =>
  workers.filter((worker) => worker.role === 'consumer' && !worker.refused).map((worker) => CONSUMERS[worker.index]!);

/** Does a consumer name's running ranges hold the stream? */
const covers = (consumers: ConsumerSpec[], name: string, key: string) =>
  consumers.some((consumer) => consumer.name === name && sliceOf(key) >= consumer.slices[0] && sliceOf(key) <= consumer.slices[1]);

/** How many stored events have no feed position (read with the driver's fetchRecords). */
async function countFeedOff(url: string, keys: string[]): Promise<number> {
  const { driver, store } = await openStoreAndDriver(url);
  try {
    let count = 0;
    for (const key of keys) count += (await driver.feed!.fetchRecords(key, 0, 1_000_000)).filter((record) => record.position === '').length;
    return count;
  } finally {
    await store.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const countOf = (truth: Map<string, string[]>) => [...truth.values()].reduce((n, ids) => n + ids.length, 0);

/** Every stream as stored: its ids by sequence (index 0 is sequence 1). */
async function readBack(store: EventStore, keys: string[]): Promise<Map<string, string[]>> {
  const truth = new Map<string, string[]>();
  for (const key of keys) {
    const ids: string[] = [];
    for await (const event of store.readStream(key)) ids.push(event.id);
    truth.set(key, ids);
  }
  return truth;
}

interface Batch {
  run: string;
  batch: number;
  at: number;
  events: [string, number, string][];
}

/** A consumer log: its runs (one per process start), each with its batches. */
async function readLog(file: string): Promise<{ run: string; batches: Batch[] }[]> {
  const runs: { run: string; batches: Batch[] }[] = [];
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line) continue;
    // A kill can cut the last line short: it was not handled, and is delivered again.
    let value: { start?: string } & Partial<Batch>;
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      continue;
    }
    if (value.start) runs.push({ run: value.start, batches: [] });
    else runs[runs.length - 1]?.batches.push(value as Batch);
  }
  return runs;
}

/**
 * Waits until every consumer name has been delivered every stored event, for as long as deliveries go on:
 * it fails only when nothing new was delivered for `stallMs` (a consumer stuck, not a slow machine).
 */
async function drained(directory: string, consumers: ConsumerSpec[], truth: Map<string, string[]>, stallMs: number, log: (line: string) => void) {
  let deadline = Date.now() + stallMs;
  let delivered = -1;
  for (;;) {
    const seen = new Map<string, Set<string>>();
    for (const consumer of consumers) {
      const set = seen.get(consumer.name) ?? new Set();
      seen.set(consumer.name, set);
      for (const run of await readLog(join(directory, `${consumer.worker}.log`))) {
        for (const batch of run.batches) for (const [key, sequence] of batch.events) set.add(`${key}#${sequence}`);
      }
    }
    const total = (name: string) => [...truth].reduce((n, [key, ids]) => n + (covers(consumers, name, key) ? ids.length : 0), 0);
    const state = () => [...seen].map(([name, set]) => `${name} ${set.size} of ${total(name)}`).join(', ');
    if ([...seen].every(([name, set]) => set.size >= total(name))) return log(`drained: ${state()}`);
    const now = [...seen.values()].reduce((n, set) => n + set.size, 0);
    if (now > delivered) (delivered = now), (deadline = Date.now() + stallMs);
    if (Date.now() > deadline) throw new Error(`the consumers delivered nothing new for ${stallMs / 1000} s: ${state()}`);
    await sleep(500);
  }
}

async function check(directory: string, running: ConsumerSpec[], truth: Map<string, string[]>, acks: Ack[], kills: { consumerKills: number; writerKills: number }): Promise<FeedShowReport> {
  const problems: string[] = [];
  for (const ack of acks) {
    const stored = truth.get(ack.key)!.slice(ack.first - 1, ack.first - 1 + ack.ids.length);
    if (stored.join() !== ack.ids.join()) problems.push(`acknowledged commit ${ack.ids[0]} is not stored at ${ack.key}#${ack.first}`);
  }
  const slowIds = new Set(acks.filter((ack) => ack.ms > SHOW_FEED.restampAfterMs).flatMap((ack) => ack.ids));
  const consumers: FeedShowReport['consumers'] = {};
  const firstDelivery = new Map<string, number>();
  for (const name of new Set(running.map((consumer) => consumer.name))) {
    const delivered = new Map<string, number>();
    const report = { delivered: 0, repeatedAfterKill: 0, repeatedSlowCommit: 0 };
    for (const consumer of running.filter((c) => c.name === name)) {
      const runs = await readLog(join(directory, `${consumer.worker}.log`));
      if (runs.length === 0) problems.push(`${consumer.worker}: its log is empty (${(await readFile(join(directory, `${consumer.worker}.log`), 'utf8').catch((error: unknown) => String(error))).slice(0, 200)})`);
      const last = new Map<string, number>();
      // The batch a kill may have cut before its checkpoint: the last of the latest run that handled any.
      let unsaved = new Set<string>();
      for (const run of runs) {
        for (const batch of run.batches) {
          for (const [key, sequence, id] of batch.events) {
            const at = `${key}#${sequence}`;
            report.delivered++;
            if (truth.get(key)?.[sequence - 1] !== id) problems.push(`${consumer.worker}: delivered ${at} (${id}), which is not stored`);
            const before = last.get(key) ?? 0;
            if (sequence > before + 1) problems.push(`${consumer.worker}: ${at} delivered after ${before} (a gap)`);
            if (sequence <= before || delivered.has(at)) {
              // A repeat: once, of a batch a kill cut before its checkpoint; or of a slow (re-stamped) commit.
              if (unsaved.delete(at)) report.repeatedAfterKill++;
              else if (slowIds.has(id)) report.repeatedSlowCommit++;
              else problems.push(`${consumer.worker}: ${at} delivered again, not right after a kill`);
            }
            last.set(key, Math.max(before, sequence));
            delivered.set(at, (delivered.get(at) ?? 0) + 1);
            if (name === 'solo' && !firstDelivery.has(id)) firstDelivery.set(id, batch.at);
          }
        }
        const lastBatch = run.batches[run.batches.length - 1];
        if (lastBatch) unsaved = new Set(lastBatch.events.map(([key, sequence]) => `${key}#${sequence}`));
      }
    }
    for (const [key, ids] of truth) {
      if (!covers(running, name, key)) continue;
      ids.forEach((_, i) => {
        if (!delivered.has(`${key}#${i + 1}`)) problems.push(`${name}: ${key}#${i + 1} was never delivered`);
      });
    }
    consumers[name] = report;
  }
  const lags = (skewed: boolean) => percentiles(acks.filter((ack) => (ack.writer === 0) === skewed).map((ack) => (firstDelivery.get(ack.ids[0]!) ?? NaN) - ack.at));
  return {
    acknowledgedCommits: acks.length,
    storedEvents: countOf(truth),
    ...kills,
    consumers,
    problems: problems.slice(0, 50),
    lagMs: { skewed: lags(true), others: lags(false) },
    rivals: { running: [], refused: [] },
    feedOffEvents: 0,
  };
}

function percentiles(values: number[]): Percentiles {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const at = (q: number) => Math.max(0, sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return { p50: at(0.5), p99: at(0.99), count: sorted.length };
}

/** Starts the backend, runs the show on a fresh namespace, stops it. */
export async function runFeedShow(backend: Backend, options: FeedShowOptions = {}): Promise<FeedShowReport> {
  const prepared = await prepareBackend(backend);
  try {
    return await runFeedShowOn(prepared.url, options);
  } finally {
    await prepared.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const program = new Command('feed-show')
    .addOption(new Option('--backend <name>', 'the backend').choices(['dynamodb', 'azure-tables', 'cassandra', 'mongodb']).makeOptionMandatory())
    .option('--seconds <n>', 'how long the writers write', (value) => Number(value), 20)
    .parse(cliArguments(process.argv));
  const { backend, seconds } = program.opts<{ backend: Backend; seconds: number }>();
  // No top-level await: the tests load this module as CommonJS.
  void runFeedShow(backend, { seconds, log: (line) => console.log(line) }).then((report) => {
    console.log(JSON.stringify(report, null, 2));
    process.exitCode = report.problems.length === 0 ? 0 : 1;
  });
}
