import { createHash } from 'node:crypto';

/**
 * Azure forbids `/ \ # ?` and control characters (U+0000–U+001F, U+007F–U+009F) in PartitionKey and
 * RowKey. They are written as `%XX`, and `%` itself as `%25`, so every key has one encoding and decodes
 * back to itself. Escaping is per character: the encoding of a prefix is a prefix of the encoding.
 * U+2028 and U+2029 are written as `%u2028` / `%u2029`: Azurite's batch parser fails (HTTP 500) on them.
 */
const FORBIDDEN = /[%/\\#?\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function encodeKey(key: string): string {
  return key.replace(FORBIDDEN, (char) => {
    const hex = char.charCodeAt(0).toString(16).toUpperCase();
    return hex.length > 2 ? `%u${hex}` : `%${hex.padStart(2, '0')}`;
  });
}

export function decodeKey(encoded: string): string {
  return encoded.replace(/%(?:u([0-9A-F]{4})|([0-9A-F]{2}))/g, (_, wide: string | undefined, hex: string | undefined) =>
    String.fromCharCode(parseInt(wide ?? hex!, 16)),
  );
}

/** JSON text with U+2028 and U+2029 escaped (still valid JSON): Azurite's batch parser fails on them raw. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

const SEQUENCE_DIGITS = 16; // 10^16 > 2^53

/** The RowKey of an event: the sequence, zero-padded so that RowKey order is sequence order. */
export const rowKey = (sequence: number): string => String(sequence).padStart(SEQUENCE_DIGITS, '0');

/** The RowKey of a stream's head entity; it sorts after every event's. */
export const HEAD_ROW = '~head';

/** Azure's PartitionKey limit: 1 KiB of UTF-16, i.e. 512 units (Azurite enforces the same). */
export const MAX_PARTITION_KEY_UNITS = 512;
const LONG_PREFIX_UNITS = 440;
const LONG_MARK = '%~';

/**
 * The PartitionKey of a stream. An encoded key longer than Azure allows becomes its first 440 units,
 * `%~` (which no encoding contains, as `%` is always followed by two hex digits) and the SHA-256 of the
 * key; such a stream's head entity keeps the full key. The first units keep keys under a prefix together.
 */
export function partitionKeyOf(key: string): string {
  const encoded = encodeKey(key);
  if (encoded.length <= MAX_PARTITION_KEY_UNITS) return encoded;
  return leadingUnits(encoded, LONG_PREFIX_UNITS) + LONG_MARK + createHash('sha256').update(key).digest('base64url');
}

/** The first `units` UTF-16 units of `text`, one fewer rather than half of a surrogate pair. */
function leadingUnits(text: string, units: number): string {
  const last = text.charCodeAt(units - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? units - 1 : units);
}

/**
 * The least string greater than every string that starts with `prefix`, in Azure's (UTF-16 code unit)
 * order: the prefix without its trailing U+FFFF units, its last unit raised by one. Undefined when no
 * such bound exists (an empty prefix, one of U+FFFF units only) or when it would not be well-formed
 * text (raising a surrogate's unit): the scan then goes on without an upper bound.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const trimmed = prefix.replace(/\uffff+$/, '');
  if (trimmed.length === 0) return undefined;
  const bound = trimmed.slice(0, -1) + String.fromCharCode(trimmed.charCodeAt(trimmed.length - 1) + 1);
  return bound.isWellFormed() ? bound : undefined;
}
