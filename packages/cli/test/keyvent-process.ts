import { createServer } from 'node:net';
import { format } from 'node:util';
import { jest } from '@jest/globals';
import { runKeyvent } from '../src/run-keyvent.js';

/**
 * Runs the command as the binary does and returns what it wrote to this process's stdout (its own
 * lines go through console.log, which Jest takes over, so both are captured) and stderr, its exit
 * code and how long it took.
 */
export async function keyventProcess(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number; elapsedMs: number }> {
  const written = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') =>
    jest.spyOn(process[stream], 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written[stream] += String(chunk);
      return true;
    }) as typeof process.stdout.write);
  const printed = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    written.stdout += `${format(...args)}\n`;
  });
  const spies = [capture('stdout'), capture('stderr'), printed];
  const started = Date.now();
  try {
    const exitCode = await runKeyvent(['node', 'keyvent', ...args]);
    return { ...written, exitCode, elapsedMs: Date.now() - started };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** A loopback port nothing listens on: one the system just gave out and that was closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
