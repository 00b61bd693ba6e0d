export * from './backends.js';
export { images } from './images.js';
export { startBackend, startLocalServer, startPreparedBackend, type RunningBackend } from './start-backend.js';
export { startFaultProxies, startFaultProxy, type FaultCounts, type FaultProxy } from './fault-proxy.js';
export { proxyBackend } from './proxied-backend.js';
export { startCassandraCluster, type CassandraCluster, type CassandraClusterOptions, type CassandraNode } from './cassandra.js';
