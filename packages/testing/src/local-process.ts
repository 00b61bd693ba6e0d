import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

const LOG_LINES = 80;
const running = new Set<ChildProcess>();

// Servers must not outlive the test run, even when the runner exits without calling stop().
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A free TCP port on `host` (default 127.0.0.1): `port` if it is free there, or one the operating system chooses. */
export function freePort(host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface LocalProcess {
  /** The last lines the server printed, and before them the last of those that match `notable`, for error messages. */
  logTail(): string;
  /** Resolves with a description of how it ended, if it ends before `stop`. */
  exited: Promise<string>;
  stop(): Promise<void>;
  /** Kills it with SIGKILL (no chance to flush or shut down cleanly) and waits until it is gone. */
  kill(): Promise<void>;
}

/** Starts a server process, keeping the tail of its output and killing it on stop or on exit. */
export function startLocalProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; /** Lines kept apart from the tail (e.g. a cluster's gossip), for diagnosis. */ notable?: RegExp } = {},
): LocalProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  // The server must never keep a test run alive: the exit hook above kills it when the run ends.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  const lines: string[] = [];
  const notable: string[] = [];
  const keep = (chunk: Buffer) => {
    const added = chunk.toString('utf8').split('\n').filter(Boolean);
    lines.push(...added);
    lines.splice(0, Math.max(0, lines.length - LOG_LINES));
    if (options.notable) notable.push(...added.filter((line) => options.notable!.test(line)));
    notable.splice(0, Math.max(0, notable.length - LOG_LINES));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not run ${command}: ${error.message}`));
    child.once('exit', (code, signal) => resolve(`${command} exited with ${signal ?? `code ${code}`}`));
  });
  exited.then(() => running.delete(child));

  async function stop(): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    child.ref(); // waiting for it to end must keep this process alive until it has
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killed);
  }

  async function kill(): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    child.ref();
    child.kill('SIGKILL');
    await exited;
  }

  const logTail = () => (notable.length > 0 ? ['(notable lines)', ...notable, '(last lines)', ...lines] : lines).join('\n');
  return { logTail, exited, stop, kill };
}

/**
 * Polls `ready` until it resolves true, failing with `what`, the reason and the server's log tail when
 * the process exits first or `timeoutMs` passes.
 */
export async function waitUntilReady(
  what: string,
  server: LocalProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended: string | undefined;
  void server.exited.then((reason) => (ended = reason));
  for (;;) {
    if (ended) throw new Error(`${what} did not start: ${ended}.\n--- its last output ---\n${server.logTail()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${what} did not answer within ${timeoutMs / 1000} s.\n--- its last output ---\n${server.logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** True once something accepts TCP connections on `host`:`port`. */
export function acceptsConnections(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True once anything answers HTTP at `url` (any status: the server is up). */
export async function answersHttp(url: string, init?: RequestInit): Promise<boolean> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return true;
}
