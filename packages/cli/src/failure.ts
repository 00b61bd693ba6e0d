import { CommanderError } from 'commander';
import { isKeyventError, redactSecrets } from '@keyvent/core';
import { CommandError, UsageError } from './errors.js';

/**
 * The exit codes of `keyvent`: 1 for a refused or failed operation, 2 for a mistake in the command line,
 * 141 (128 + SIGPIPE, as Unix tools) when the reader of stdout went away before the command finished.
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2, pipeClosed: 141 } as const;

const line = (message: string) => `keyvent: ${redactSecrets(message).replace(/^\[keyvent\] /, '')}`;

/**
 * What the command prints for a failure, and its exit code, the one place of these rules:
 * - a mistake in the command line (commander's own errors, a bad number, URL or JSON) exits 2, with
 *   commander's message (already printed, so the text is empty) or one line (a bad URL adds the URL forms);
 * - a refused operation (a conflict, a validation error of the store, a missing stream, store or
 *   package) and a backend's failure exit 1 with the first line of the message (a Cassandra error
 *   quotes a stack after it);
 * - anything else is a bug: its stack, exit 1.
 * Nothing printed carries a secret from a URL or a connection string.
 */
export function describeFailure(error: unknown): { text: string; exitCode: number } {
  if (error instanceof CommanderError) return { text: '', exitCode: error.exitCode === 0 ? ExitCode.ok : ExitCode.usage };
  if (error instanceof UsageError) return { text: line(error.message), exitCode: ExitCode.usage };
  if (error instanceof CommandError || isKeyventError(error)) return { text: line(error.message.split('\n')[0]!), exitCode: ExitCode.failed };
  return { text: redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error)), exitCode: ExitCode.failed };
}
