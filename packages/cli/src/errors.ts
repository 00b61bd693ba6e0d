import { DriverError } from '@keyvent/core';

/** A mistake in what the user typed (an option, a number, a URL, JSON): printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that cannot do what was asked, for a reason the user can act on (a stream that does not exist): one line, exit code 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/**
 * The error of a command that creates nothing (all but `append`, the `copy` target, `demo` and `bench`)
 * on a store that is not there: says what is missing and how to create it.
 *
 * @example
 * ```ts
 * throw storeNotFound('dynamodb', 'no table "events" at http://localhost:8000', 'createDynamoDbTable(client, "events") from @keyvent/dynamodb');
 * ```
 */
export function storeNotFound(driver: string, what: string, howToCreate: string): DriverError {
  return new DriverError(driver, `${what}; this command creates nothing: create it with ${howToCreate}, or append to it or copy into it with keyvent`);
}
