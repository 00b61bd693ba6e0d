import { startBackend, type BackendName, type RunningBackend } from '@keyvent/testing';
import type { BenchTarget } from '@keyvent/cli';
import { azureTablesTarget } from './azure-tables.js';
import { cassandraTarget } from './cassandra.js';
import { dynamoDbTarget } from './dynamodb.js';
import { levelTarget, memoryTarget } from './embedded.js';
import { mongoDbTarget } from './mongodb.js';

const servers = {
  dynamodb: (server: RunningBackend) => dynamoDbTarget(server as RunningBackend<'dynamodb'>),
  'azure-tables': (server: RunningBackend) => azureTablesTarget(server as RunningBackend<'azure-tables'>),
  cassandra: (server: RunningBackend) => cassandraTarget(server as RunningBackend<'cassandra'>),
  mongodb: (server: RunningBackend) => mongoDbTarget(server as RunningBackend<'mongodb'>),
};

/** Starts the backend (a local server where it has one) and makes its benchmark target; `close` stops both. */
export async function openTarget(backend: string): Promise<BenchTarget> {
  if (backend === 'memory') return memoryTarget();
  if (backend === 'level') return levelTarget();
  const make = servers[backend as keyof typeof servers];
  if (!make) throw new Error(`unknown backend ${JSON.stringify(backend)}`);
  const server = await startBackend(backend as BackendName);
  try {
    const target = await make(server);
    return { ...target, close: async () => (await target.close(), await server.stop()) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
