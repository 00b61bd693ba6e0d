import { backends, type BackendName, type Connections, type LocalServer, type LocalServerOptions } from './backends.js';
import { images } from './images.js';

export interface RunningBackend<N extends BackendName = BackendName> {
  name: N;
  /** Where it came from: an endpoint in the environment, a server started here, or a container. */
  source: 'environment' | 'local' | 'container';
  /** What it is, for test output and READMEs, e.g. `DynamoDB Local (…) on http://127.0.0.1:41234`. */
  description: string;
  connection: Connections[N];
  /** How long it took to be ready, in milliseconds. */
  startMs: number;
  /** Stops what was started here (nothing for an environment endpoint). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Gives a real backend for tests and benchmarks: the endpoint named in the environment if there is one,
 * else a server started here on a free loopback port, else a testcontainers container if a Docker
 * engine answers. Fails, saying what was tried and with the server's log, if none works: never a skip.
 *
 * @example
 * ```ts
 * const dynamodb = await startBackend('dynamodb');
 * const client = new DynamoDBClient(dynamodb.connection);
 * // …
 * await dynamodb.stop();
 * ```
 */
export async function startBackend<N extends BackendName>(name: N): Promise<RunningBackend<N>> {
  const definition = backends[name];
  const started = Date.now();
  const finish = (source: RunningBackend['source'], server: LocalServer<Connections[N]>): RunningBackend<N> => {
    let stopping: Promise<void> | undefined;
    return { name, source, ...server, startMs: Date.now() - started, stop: () => (stopping ??= server.stop()) };
  };

  const fromEnvironment = process.env[definition.environmentVariable];
  if (fromEnvironment) {
    const connection = definition.fromEnvironment(fromEnvironment);
    return finish('environment', { connection, description: `${name} from ${definition.environmentVariable}`, stop: async () => {} });
  }
  const failures: string[] = [];
  try {
    return finish('local', await definition.startLocal());
  } catch (error) {
    failures.push(`local server: ${(error as Error).message}`);
  }
  try {
    return finish('container', await startContainer(name));
  } catch (error) {
    failures.push(`container (${images[name]}): ${(error as Error).message}`);
  }
  throw new Error(
    `[keyvent] [testing] could not get a ${name} backend. Set ${definition.environmentVariable} to use a running one.\n` +
      failures.map((failure) => `- ${failure}`).join('\n'),
  );
}

async function startContainer<N extends BackendName>(name: N): Promise<LocalServer<Connections[N]>> {
  const { GenericContainer } = await import('testcontainers');
  const { port, command, environment, connect } = backends[name].container;
  let container = new GenericContainer(images[name]).withExposedPorts(port).withEnvironment(environment ?? {});
  if (command) container = container.withCommand(command);
  const started = await container.start();
  const host = started.getHost();
  const mapped = started.getMappedPort(port);
  return {
    connection: connect(host, mapped) as Connections[N],
    description: `${images[name]} container on ${host}:${mapped}`,
    stop: async () => void (await started.stop()),
  };
}

/**
 * Starts a backend as {@link startBackend} does, says on the console what it is and how long it took
 * to be ready, and runs `prepare` on it (make a table, a keyspace…). Stops the backend if `prepare`
 * fails, so a failed set-up never leaves a server behind.
 *
 * @example
 * ```ts
 * const { backend, client } = await startPreparedBackend('dynamodb', async ({ connection }) => ({ client: new DynamoDBClient(connection) }));
 * ```
 */
export async function startPreparedBackend<N extends BackendName, R extends object>(
  name: N,
  prepare: (backend: RunningBackend<N>) => Promise<R>,
): Promise<R & { backend: RunningBackend<N> }> {
  const backend = await startBackend(name);
  console.info(`${name} backend: ${backend.description} (${backend.source}), ready in ${backend.startMs} ms`);
  try {
    return { ...(await prepare(backend)), backend };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}

/**
 * Starts the local server of a backend (never an environment endpoint or a container), for tools that
 * must control the process: with `dataDir` its data stays on disk there, and `kill()` SIGKILLs it.
 */
export async function startLocalServer<N extends BackendName>(name: N, options: LocalServerOptions = {}): Promise<LocalServer<Connections[N]>> {
  return backends[name].startLocal(options);
}
