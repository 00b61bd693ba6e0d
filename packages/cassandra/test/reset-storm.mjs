// Run by client-guard.test.ts as its own process (an uncaught error or a timer left behind shows as it
// would in a user's): appends through a fault proxy that resets the connection on every one of them,
// alternately losing the request and the reply, then closes the store and the proxy and must exit.
// Arguments: the Cassandra node (host:port), its keyspace, the number of appends (0: one append on a client
// whose connect fails, its keyspace missing; -1: one append, then an outage of 8 s, the node unreachable,
// before the store is closed). Prints, last, what still keeps the process alive after close.
import { createStore } from '@keyvent/core';
import { startFaultProxy } from '@keyvent/testing';
import { createCassandraDriver } from '../dist/index.js';

const [node, keyspace, count] = process.argv.slice(2);
const [host, port] = node.split(':');
const proxy = await startFaultProxy({ host, port: Number(port) });
const failedConnect = Number(count) === 0;
const clientOptions = { contactPoints: [`${proxy.host}:${proxy.port}`], localDataCenter: 'datacenter1', ...(failedConnect ? { keyspace: 'no_such_keyspace' } : {}) };
const driver = createCassandraDriver({ keyspace, clientOptions });
const store = createStore(driver, { retry: { attempts: 8, firstDelayMs: 50, maxDelayMs: 1000 } });
const outcomes = new Map();
if (failedConnect) {
  const outcome = await store.append('storm/failed-connect', { type: 'A', data: 0 }).then(() => 'acknowledged', (error) => error.code ?? error.name);
  outcomes.set(outcome, 1);
}
if (Number(count) === -1) {
  const outcome = await store.append(`storm/outage/${Date.now()}`, { type: 'A', data: 0 }, { expectedVersion: 0 }).then(() => 'acknowledged', (error) => error.code ?? error.name);
  outcomes.set(outcome, 1);
  // The node unreachable: the control connection's refreshes fail, and the driver schedules the next ones.
  await proxy.close();
  await new Promise((resolve) => setTimeout(resolve, 8_000));
}
for (let i = 0; i < Number(count); i++) {
  if (i % 2 === 0) proxy.dropNextRequest();
  else proxy.dropNextReply();
  const outcome = await store.append(`storm/${i}`, { type: 'A', data: i }, { expectedVersion: 0 }).then(() => 'acknowledged', (error) => error.code ?? error.name);
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
}
await store.close();
await proxy.close();
await new Promise((resolve) => setImmediate(resolve));
// Ref'd timers left behind (a drained pool's fallback timer, a reconnection) would hold the process after close.
const timers = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout');
console.log(JSON.stringify({ resets: proxy.injected(), outcomes: Object.fromEntries(outcomes), timers: timers.length }));
