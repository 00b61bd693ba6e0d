import { isKeyventError, redactSecrets } from '@keyvent/core';
import { CopyError } from './copy.js';
import { UsageError } from './store-url.js';

/**
 * What the command prints for a failure, and its exit code: a user's mistake is one line and exit 2, a
 * refused operation one line and exit 1, anything else its stack and exit 1. Nothing printed carries a
 * secret from a URL or a connection string.
 */
export function describeFailure(error: unknown): { text: string; exitCode: number } {
  if (error instanceof UsageError) return { text: `keyvent: ${redactSecrets(error.message)}`, exitCode: 2 };
  if (error instanceof CopyError || isKeyventError(error)) {
    return { text: `keyvent: ${redactSecrets(error.message).replace(/^\[keyvent\] /, '')}`, exitCode: 1 };
  }
  return { text: redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error)), exitCode: 1 };
}
