import type { Readable } from 'node:stream';
import { UsageError } from './errors.js';

/** The most `append … -` reads from stdin: 16 MiB, well above what any backend stores in one event. */
export const MAX_STDIN_BYTES = 16 * 1024 * 1024;

/**
 * Reads `stdin` to its end as UTF-8 text, for `append … -`. Refuses, as a `UsageError`, bytes that are not
 * UTF-8 (a lenient decoder would store U+FFFD in their place) and input beyond {@link MAX_STDIN_BYTES}, at
 * which it stops reading, so that a huge input does not fill memory.
 *
 * @example
 * ```ts
 * const json = await readStdin(process.stdin);
 * ```
 */
export async function readStdin(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (the throw) destroys the stream: nothing more is read.
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_STDIN_BYTES) throw new UsageError(`stdin holds more than 16 MiB (${MAX_STDIN_BYTES} bytes), the most append … - reads`);
    chunks.push(bytes);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UsageError('stdin is not valid UTF-8 (append … - reads JSON text in UTF-8)');
  }
}
