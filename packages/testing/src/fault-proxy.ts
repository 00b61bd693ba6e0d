import { connect, createServer, type Socket } from 'node:net';

/** Counts of what a {@link FaultProxy} did. */
export interface FaultCounts {
  connections: number;
  /** Replies never passed back: the server got the request, the client's connection was reset. */
  droppedReplies: number;
  /** Requests never passed on: the client's connection was reset before the server saw a byte. */
  droppedRequests: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, which loses what the network loses: a reply, a
 * request, or time. Point a client at `host:port` instead of the server. A fault is armed for the next
 * request, meaning the next bytes any client sends after the call.
 */
export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** The next request reaches the server, but its reply does not come back: the client's connection is reset. */
  dropNextReply(): void;
  /** The next request never reaches the server: the client's connection is reset at once. */
  dropNextRequest(): void;
  /** Holds every chunk, both ways, this many milliseconds (0 to stop). */
  delay(ms: number): void;
  readonly counts: FaultCounts;
  /** Faults injected so far: replies and requests dropped. */
  injected(): number;
  /** Stops listening and resets every connection. */
  close(): Promise<void>;
}

type Armed = 'drop-reply' | 'drop-request' | undefined;

/** What the proxies of one group share: the fault armed for the next request any of them sees, the delay, the counts. */
interface FaultState {
  armed: Armed;
  delayMs: number;
  counts: FaultCounts;
}

const newState = (): FaultState => ({ armed: undefined, delayMs: 0, counts: { connections: 0, droppedReplies: 0, droppedRequests: 0 } });

/**
 * Proxies in front of each node of a cluster, as one: a fault armed is spent on the next request that any
 * of them sees (wherever the client's query plan sends it), and the counts are their sum. `proxies[i]`
 * stands in front of `targets[i]`.
 *
 * @example
 * ```ts
 * const group = await startFaultProxies(nodes.map((node) => ({ host: node.address, port: 9042 })));
 * group.dropNextReply(); // the next request to any node lands, its reply is lost
 * ```
 */
export async function startFaultProxies(targets: readonly { host: string; port: number }[]): Promise<FaultProxy & { proxies: FaultProxy[] }> {
  const state = newState();
  const proxies = await Promise.all(targets.map((target) => listen(target, state)));
  return {
    ...controls(state, async () => void (await Promise.all(proxies.map((proxy) => proxy.close())))),
    host: proxies[0]!.host,
    port: proxies[0]!.port,
    proxies,
  };
}

/**
 * Starts a {@link FaultProxy} to `target` on a free loopback port.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ host: '127.0.0.1', port: 8000 });
 * const client = new DynamoDBClient({ ...connection, endpoint: `http://${proxy.host}:${proxy.port}` });
 * proxy.dropNextReply(); // the next request lands, its reply is lost
 * ```
 */
export function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  return listen(target, newState());
}

/** The switches of a proxy or a group over their shared state. */
function controls(state: FaultState, close: () => Promise<void>): Omit<FaultProxy, 'host' | 'port'> {
  return {
    dropNextReply: () => void (state.armed = 'drop-reply'),
    dropNextRequest: () => void (state.armed = 'drop-request'),
    delay: (ms) => void (state.delayMs = ms),
    counts: state.counts,
    injected: () => state.counts.droppedReplies + state.counts.droppedRequests,
    close,
  };
}

async function listen(target: { host: string; port: number }, state: FaultState): Promise<FaultProxy> {
  const { counts } = state;
  const sockets = new Set<Socket>();

  /** Forwards chunks in order, each after the current delay. */
  function forwarder(to: Socket) {
    let tail = Promise.resolve();
    return (chunk: Buffer) => {
      if (state.delayMs === 0) return void to.write(chunk);
      const wait = state.delayMs;
      tail = tail.then(() => new Promise((resolve) => setTimeout(resolve, wait))).then(() => void (to.destroyed || to.write(chunk)));
    };
  }

  const server = createServer((client) => {
    counts.connections++;
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    const reset = () => {
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    let replyDoomed = false;
    const toServer = forwarder(upstream);
    const toClient = forwarder(client);
    client.on('data', (chunk: Buffer) => {
      const fault = state.armed;
      state.armed = undefined;
      if (fault === 'drop-request') {
        counts.droppedRequests++;
        return reset();
      }
      if (fault === 'drop-reply') replyDoomed = true;
      toServer(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!replyDoomed) return toClient(chunk);
      counts.droppedReplies++;
      reset();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port,
    ...controls(state, () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}
