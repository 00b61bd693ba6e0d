import type { JsonValue } from '@keyvent/core';
import { UsageError } from './errors.js';

// In a text JSON.parse accepts, a string or a number token; strings come first so digits in them are skipped.
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * Parses JSON typed by the user (`<data>`, `--metadata`). Refuses, as a `UsageError`, text that is not
 * JSON and a number token that JSON.parse would not read back as written, whatever its notation:
 * - one beyond 2^53 - 1 in magnitude (or beyond a double: Infinity), which would be stored rounded
 *   (`18446744073709551617` and `1.8446744073709551617e19` as `18446744073709552000`): every double
 *   beyond 2^53 - 1 is an integer that cannot be kept exact, so the fix is to write it as a string;
 * - one read as -0 (`-0`, `-0.0`), which the core refuses (JSON does not keep it).
 * The tokens are read from the source text, as JSON.parse's reviver only sees the source on Node 21 and later.
 *
 * @example
 * ```ts
 * parseJsonArgument('{"sku":"A1","amount":12.5}', '<data>'); // { sku: 'A1', amount: 12.5 }
 * parseJsonArgument('{"id":18446744073709551617}', '<data>'); // throws UsageError: … write it as a string, "18446744073709551617"
 * ```
 */
export function parseJsonArgument(text: string, what: string): JsonValue {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  for (const [token] of text.matchAll(STRING_OR_NUMBER)) {
    if (token.startsWith('"')) continue;
    const number = Number(token);
    if (Math.abs(number) > Number.MAX_SAFE_INTEGER) {
      throw new UsageError(
        `${what} holds ${token}, a number beyond 2^53 - 1 (${Number.MAX_SAFE_INTEGER}) that JSON numbers cannot keep exact (it would be read as ${number}): write it as a string, "${token}"`,
      );
    }
    if (Object.is(number, -0)) throw new UsageError(`${what} holds ${token}, a negative zero that JSON does not keep (it reads back as 0): write 0`);
  }
  return value;
}
