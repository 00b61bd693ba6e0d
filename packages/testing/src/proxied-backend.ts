import type { BackendName, Connections } from './backends.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

type Address = { host: string; port: number };

/** Where each backend's connection points, and the same connection pointed elsewhere. */
const addressing: { [N in BackendName]: { target(c: Connections[N]): Address; through(c: Connections[N], proxy: Address): Connections[N] } } = {
  dynamodb: {
    target: (c) => fromUrl(c.endpoint),
    through: (c, proxy) => ({ ...c, endpoint: `http://${proxy.host}:${proxy.port}` }),
  },
  'azure-tables': {
    target: (c) => fromUrl(/TableEndpoint=([^;]+)/.exec(c.connectionString)![1]!),
    through: (c, proxy) => ({
      connectionString: c.connectionString.replace(/(TableEndpoint=\w+:\/\/)[^/;]+/, `$1${proxy.host}:${proxy.port}`),
    }),
  },
  mongodb: {
    target: (c) => fromUrl(c.uri),
    through: (c, proxy) => ({ uri: c.uri.replace(/^(mongodb:\/\/(?:[^@/]*@)?)[^/?]+/, `$1${proxy.host}:${proxy.port}`) }),
  },
  cassandra: {
    target: (c) => fromUrl(`tcp://${c.contactPoints[0]}`),
    through: (c, proxy) => ({ ...c, contactPoints: [`${proxy.host}:${proxy.port}`] }),
  },
};

function fromUrl(url: string): Address {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}

/**
 * Starts a {@link FaultProxy} in front of a running backend and gives the backend's connection
 * settings through it, for tests that lose requests and replies.
 *
 * @example
 * ```ts
 * const { proxy, connection } = await proxyBackend('dynamodb', backend.connection);
 * const driver = createDynamoDbDriver({ tableName, clientConfig: connection });
 * ```
 */
export async function proxyBackend<N extends BackendName>(name: N, connection: Connections[N]) {
  const { target, through } = addressing[name] as (typeof addressing)[N];
  const proxy: FaultProxy = await startFaultProxy(target(connection));
  return { proxy, connection: through(connection, proxy) };
}
