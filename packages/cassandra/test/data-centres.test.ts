import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Client, types } from 'cassandra-driver';
import { createCassandraDriver, createCassandraSchema } from '@keyvent/cassandra';
import { createStore, isConcurrencyError, type EventStore } from '@keyvent/core';
import { startCassandraCluster, type CassandraCluster } from '@keyvent/testing';

/**
 * Two data centres of two nodes each (keyspace replicated twice in each), one writer in each data
 * centre, racing to create the same streams. With LOCAL_SERIAL each data centre runs its own Paxos, so
 * both writers can be told their first event is stored at sequence 1: one of the two acknowledged
 * events is then lost. With SERIAL exactly one wins each race. The README's advice follows this test.
 */

const RACES = 200;
const AT_ONCE = 25;
const { consistencies } = types;

let cluster: CassandraCluster;
const clients: Client[] = [];
let keyspace: string;

beforeAll(async () => {
  cluster = await startCassandraCluster({ nodes: 4, dataCenters: 2 });
  console.info(`cassandra cluster in two data centres: ${cluster.description}`);
  for (const localDataCenter of ['datacenter1', 'datacenter2']) clients.push(new Client({ ...cluster.connection, localDataCenter }));
  keyspace = `keyvent_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  await createCassandraSchema(clients[0]!, { keyspace, replication: cluster.replication });
}, 300_000);
afterAll(async () => {
  await Promise.all(clients.map((client) => client.shutdown()));
  await cluster?.stop();
}, 60_000);

/** A store per data centre, each with its own client (whose requests its local nodes coordinate). */
function storesAt(consistency: types.consistencies, serialConsistency: types.consistencies): EventStore[] {
  return clients.map((client) => createStore(createCassandraDriver({ client, keyspace, consistency, serialConsistency })));
}

/** Both data centres append the first event of the same fresh streams at once; how each race ended. */
async function race(stores: EventStore[], label: string) {
  const outcomes = { oneWon: 0, bothAcknowledged: 0, lostAcknowledged: 0, otherwise: [] as string[] };
  for (let start = 0; start < RACES; start += AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(AT_ONCE, RACES - start) }, async (_, i) => {
        const key = `${label}/${start + i}/${randomUUID()}`;
        const ids: string[] = stores.map(() => randomUUID());
        const results = await Promise.allSettled(stores.map((store, s) => store.append(key, { type: 'Opened', data: s, id: ids[s] }, { expectedVersion: 0 })));
        const acknowledged = results.filter((result) => result.status === 'fulfilled').length;
        const refused = results.filter((result) => result.status === 'rejected' && isConcurrencyError(result.reason)).length;
        if (acknowledged === 1 && refused === 1) outcomes.oneWon++;
        else if (acknowledged === 2) {
          outcomes.bothAcknowledged++;
          // Read at a quorum of all four replicas: the stream holds one event, one of the two, so the
          // other acknowledged event is lost (the later write of sequence 1 overwrote it).
          const stored: string[] = [];
          for await (const event of stores[0]!.readStream(key)) stored.push(event.id);
          if (stored.length === 1 && ids.includes(stored[0]!)) outcomes.lostAcknowledged++;
        } else outcomes.otherwise.push(results.map((result) => (result.status === 'fulfilled' ? 'ok' : String(result.reason))).join(' / '));
      }),
    );
  }
  console.info(`${label}: ${RACES} races between the data centres: one won ${outcomes.oneWon}, both acknowledged ${outcomes.bothAcknowledged} (an acknowledged event lost in ${outcomes.lostAcknowledged}), otherwise ${outcomes.otherwise.length}`);
  return outcomes;
}

describe('cassandra in two data centres', () => {
  it('SERIAL: exactly one writer wins each race between data centres', async () => {
    const outcomes = await race(storesAt(consistencies.quorum, consistencies.serial), 'SERIAL');
    expect(outcomes).toEqual({ oneWon: RACES, bothAcknowledged: 0, lostAcknowledged: 0, otherwise: [] });
  }, 180_000);

  it('LOCAL_SERIAL: both data centres can be told they wrote sequence 1, and one of them loses its event', async () => {
    const outcomes = await race(storesAt(consistencies.localQuorum, consistencies.localSerial), 'LOCAL_SERIAL');
    expect(outcomes.otherwise).toEqual([]);
    expect(outcomes.bothAcknowledged).toBeGreaterThan(0);
    expect(outcomes.lostAcknowledged).toBe(outcomes.bothAcknowledged);
  }, 180_000);
});
