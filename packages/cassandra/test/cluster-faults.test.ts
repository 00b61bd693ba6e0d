import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { types, type Client } from 'cassandra-driver';
import { createCassandraDriver } from '@keyvent/cassandra';
import { runTorture, type TortureReport } from '@keyvent/conformance';
import { createStore, type EventStore } from '@keyvent/core';
import type { CassandraCluster, CassandraNode } from '@keyvent/testing';
import { cassandraClusterForTests, requestTracker, waitUntilEveryNodeSeesAll } from './backend.js';

/**
 * Four writers append to three streams at exact versions on a three-node cluster (RF 3, QUORUM /
 * SERIAL) while a node is SIGKILLed and restarted: a replica in one round, the node the client's
 * control connection uses (the one it first contacted) in the other. Every acknowledged append must be
 * stored exactly once at its sequence, nothing refused stored, and every CAS write timeout the client
 * met settled by the event ids: acknowledged only if stored, refused only if not.
 */

const WRITERS = 4;
const STREAMS = 3;
/** Writing before the kill, with the node dead (its peers take about 20 s to mark it down), and after its restart. */
const BEFORE_MS = 3000;
const DEAD_MS = 12_000;
const AFTER_MS = 3000;
/**
 * Far above a round on an idle machine (about 40 s): a restart on a busy one can take a minute, and the
 * wait for every node to see it up is bounded at two; the case asserts what was kept, not how fast.
 */
const ROUND_TIMEOUT_MS = 420_000;

/** A CAS write timeout the client met: the commit's event ids, and the replicas that acknowledged. */
interface CasTimeout {
  ids: string[];
  message: string;
}

let cluster: CassandraCluster;
let client: Client;
let keyspace: string;
let store: EventStore;
const casTimeouts: CasTimeout[] = [];

beforeAll(async () => {
  // Sees every failed request: the client's own retries included, which keyvent never hears of.
  const casTimeoutsSeen = requestTracker(({ query, error }) => {
    if (error?.code !== types.responseErrorCodes.writeTimeout || error.writeType !== 'CAS' || !Array.isArray(query)) return;
    // Commits only: a re-stamp of a late commit is a conditional batch too (UPDATE … IF id = ?).
    if (!String((query as { query: string }[])[0]?.query).startsWith('INSERT')) return;
    const ids = (query as { params: unknown[] }[]).slice(0, -1).map(({ params }) => String(params[4]));
    casTimeouts.push({ ids, message: error.message });
  });
  const started = await cassandraClusterForTests({ requestTracker: casTimeoutsSeen });
  if (!started.cluster.nodes) throw new Error('the cluster fault test kills nodes: it needs the cluster started here (unset KEYVENT_CASSANDRA_CONTACT_POINTS)');
  cluster = started.cluster as CassandraCluster;
  ({ client, keyspace } = started);
  store = createStore(createCassandraDriver({ client, keyspace }));
}, 600_000);
afterAll(async () => {
  await store?.close();
  await client?.shutdown();
  await cluster?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The node that the client's control connection is on (cassandra-driver keeps it on `controlConnection.host`). */
function controlNode(): CassandraNode {
  const address = (client as unknown as { controlConnection: { host: { address: string } | null } }).controlConnection.host?.address;
  const node = cluster.nodes.find((candidate) => address?.startsWith(`${candidate.address}:`));
  if (!node) throw new Error(`the client has no control connection to a node of the cluster (${address})`);
  return node;
}

/** Writes while `victim` is killed and restarted; returns the torture report, the kill's times and the CAS timeouts met. */
async function round(name: string, victim: CassandraNode) {
  const from = casTimeouts.length;
  const stop = new AbortController();
  const torture = runTorture(store, { writers: WRITERS, streams: STREAMS, keyPrefix: `cluster/${name}`, signal: stop.signal, faults: true });
  const timeline: string[] = [];
  try {
    await sleep(BEFORE_MS);
    await victim.kill();
    timeline.push(`${victim.address} SIGKILLed`);
    await sleep(DEAD_MS);
    await victim.restart();
    timeline.push(`restarted in ${(victim.startMs / 1000).toFixed(1)} s`);
    const seen = await waitUntilEveryNodeSeesAll(client, keyspace, cluster.nodes.length);
    timeline.push(`seen up by every node ${(seen / 1000).toFixed(1)} s later`);
    await sleep(AFTER_MS);
  } finally {
    stop.abort();
  }
  const report = await torture;
  const timeouts = casTimeouts.slice(from);
  console.info(summary(name, report, timeline, timeouts));
  return { report, timeouts };
}

/** How each CAS write timeout ended for the writer, and whether its events were stored. */
function settlements(report: TortureReport, timeouts: readonly CasTimeout[]) {
  const byId = new Map(report.commits.flatMap((commit) => commit.ids.map((id) => [id, commit] as const)));
  return timeouts.map((timeout) => {
    const commit = byId.get(timeout.ids[0]!);
    return commit ? `${commit.outcome}, ${commit.stored ? 'stored' : 'not stored'}` : 'not one of the writers\' commits';
  });
}

function summary(name: string, report: TortureReport, timeline: readonly string[], timeouts: readonly CasTimeout[]): string {
  const settled = new Map<string, number>();
  for (const how of settlements(report, timeouts)) settled.set(how, (settled.get(how) ?? 0) + 1);
  const unknown = report.commits.filter((commit) => commit.outcome === 'unknown');
  return [
    `cluster round "${name}": ${timeline.join(', ')}; ${(report.durationMs / 1000).toFixed(1)} s of writing`,
    `  appends acknowledged ${report.appends} (${report.acknowledgedEvents} events), refused ${report.conflicts}, failed (not stored, said so) ${report.failures}, ` +
      `unknown outcome ${report.unknownOutcomes} (stored afterwards: ${unknown.filter((commit) => commit.stored).length})`,
    `  events stored ${report.storedEvents}; problems ${report.problems.length}`,
    `  CAS write timeouts met by the client ${timeouts.length}: ${[...settled].map(([how, count]) => `${how} ${count}`).join('; ') || 'none'}`,
    ...unknown.slice(0, 2).map((commit) => `  e.g. unknown: ${commit.error}`),
  ].join('\n');
}

/** The checks of one round: nothing lost, duplicated or stored against its acknowledgement. */
function expectKept(report: TortureReport, timeouts: readonly CasTimeout[]) {
  expect(report.problems).toEqual([]);
  expect(report.appends).toBeGreaterThan(0);
  // Each CAS write timeout belongs to a writer's commit: acknowledged and stored, refused or failed and
  // not stored, or of unknown outcome and stored whole or not at all (readBack checked it).
  for (const how of settlements(report, timeouts)) expect(how).toMatch(/^(acknowledged, stored|(refused|failed), not stored|unknown, (not )?stored)$/);
  // The read at SERIAL settles every commit it reads back: an outcome is unknown only when that read
  // failed too, or when an attempt's reply was lost (its coordinator may still apply it afterwards).
  for (const commit of report.commits.filter(({ outcome }) => outcome === 'unknown')) {
    expect(commit.error).toMatch(/could not be read back|the final read failed|may still be running on the backend/);
  }
}

describe('cassandra cluster (3 nodes, RF 3) under node kills', () => {
  it('keeps every acknowledged append when a replica is killed mid-run and restarted', async () => {
    const control = controlNode();
    const replica = cluster.nodes.find((node) => node !== control)!;
    const { report, timeouts } = await round('replica killed', replica);
    expectKept(report, timeouts);
  }, ROUND_TIMEOUT_MS);

  it('keeps every acknowledged append when the node the client first contacted is killed and restarted', async () => {
    const { report, timeouts } = await round('control node killed', controlNode());
    expectKept(report, timeouts);
  }, ROUND_TIMEOUT_MS);
});
