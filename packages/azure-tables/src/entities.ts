import type { TableEntity } from '@azure/data-tables';
import type { StoredEvent } from '@keyvent/core';
import { jsonText, partitionKeyOf, rowKey } from './keys.js';

/** A string property holds at most 64 KiB of UTF-16: 32,768 units. Chunks stay under that. */
const CHUNK = 32_000;

export type EventEntity = {
  partitionKey: string;
  rowKey: string;
  /** How many payload chunks (`p0`, `p1`, …) hold the JSON of `[type, id, timestamp, data]` or `[…, metadata]`. */
  pn: number;
  [chunk: `p${number}`]: string;
};

/** Splits a string into chunks, never between the two halves of a surrogate pair. */
function chunks(text: string): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + CHUNK, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts.length > 0 ? parts : [''];
}

export function toEntity(event: StoredEvent): TableEntity<EventEntity> {
  const { type, id, timestamp, data, metadata } = event;
  const parts = chunks(jsonText(metadata === undefined ? [type, id, timestamp, data] : [type, id, timestamp, data, metadata]));
  const entity: TableEntity<EventEntity> = { partitionKey: partitionKeyOf(event.key), rowKey: rowKey(event.sequence), pn: parts.length };
  parts.forEach((part, i) => (entity[`p${i}`] = part));
  return entity;
}

/** The event of an entity read from stream `key` (a long key cannot be decoded from its PartitionKey). */
export function fromEntity(entity: TableEntity<EventEntity>, key: string): StoredEvent {
  let payload = '';
  for (let i = 0; i < entity.pn; i++) payload += entity[`p${i}`];
  const [type, id, timestamp, data, metadata] = JSON.parse(payload);
  const event: StoredEvent = { key, sequence: Number(entity.rowKey), type, data, id, timestamp };
  if (metadata !== undefined) event.metadata = metadata;
  return event;
}
