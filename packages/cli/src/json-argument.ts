import type { JsonValue } from '@keyvent/core';
import { UsageError } from './errors.js';

// In a text JSON.parse accepts, a string or a number token; strings come first so digits in them are skipped.
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(\.\d+)?([eE][+-]?\d+)?/g;

/**
 * Parses JSON typed by the user (`<data>`, `--metadata`). Refuses, as a `UsageError`, text that is not
 * JSON and an integer beyond 2^53 - 1, which JSON.parse would silently round (`18446744073709551617`
 * would be stored as `18446744073709552000`). The integer is found in the source text, as JSON.parse's
 * reviver only sees the source on Node 21 and later.
 */
export function parseJsonArgument(text: string, what: string): JsonValue {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  const unsafe = unsafeInteger(text);
  if (unsafe !== undefined) {
    throw new UsageError(
      `${what} holds ${unsafe}, an integer beyond 2^53 - 1 (${Number.MAX_SAFE_INTEGER}) that JSON numbers cannot keep exact (it would be stored as ${Number(unsafe)}): write it as a string, "${unsafe}"`,
    );
  }
  return value;
}

/** The first integer token (no fraction, no exponent) of a valid JSON text that is not a safe integer. */
function unsafeInteger(text: string): string | undefined {
  for (const [token, fraction, exponent] of text.matchAll(STRING_OR_NUMBER)) {
    if (token.startsWith('"') || fraction !== undefined || exponent !== undefined) continue;
    if (!Number.isSafeInteger(Number(token))) return token;
  }
  return undefined;
}
