// Run by client-guard.test.ts as its own process (an uncaught error or a timer left behind shows as it
// would in a user's): appends through a fault proxy that resets the connection on every one of them,
// alternately losing the request and the reply, then closes the store and the proxy and must exit.
// Arguments: the Cassandra node (host:port), its keyspace, the number of appends.
import { createStore } from '@keyvent/core';
import { startFaultProxy } from '@keyvent/testing';
import { createCassandraDriver } from '../dist/index.js';

const [node, keyspace, count] = process.argv.slice(2);
const [host, port] = node.split(':');
const proxy = await startFaultProxy({ host, port: Number(port) });
const driver = createCassandraDriver({ keyspace, clientOptions: { contactPoints: [`${proxy.host}:${proxy.port}`], localDataCenter: 'datacenter1' } });
const store = createStore(driver, { retry: { attempts: 8, firstDelayMs: 50, maxDelayMs: 1000 } });
const outcomes = new Map();
for (let i = 0; i < Number(count); i++) {
  if (i % 2 === 0) proxy.dropNextRequest();
  else proxy.dropNextReply();
  const outcome = await store.append(`storm/${i}`, { type: 'A', data: i }, { expectedVersion: 0 }).then(() => 'acknowledged', (error) => error.code ?? error.name);
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
}
await store.close();
await proxy.close();
console.log(JSON.stringify({ resets: proxy.injected(), outcomes: Object.fromEntries(outcomes) }));
