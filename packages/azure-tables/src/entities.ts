import type { TableEntity } from '@azure/data-tables';
import { FEED_START, type StoredEvent } from '@keyvent/core';
import { jsonText, partitionKeyOf, rowKey } from './keys.js';

/** A string property holds at most 64 KiB of UTF-16: 32,768 units. Chunks stay under that. */
const CHUNK = 32_000;

export type EventEntity = {
  partitionKey: string;
  rowKey: string;
  /** How many payload chunks (`p0`, `p1`, …) hold the JSON of `[type, id, timestamp, data]` or `[…, metadata]`. */
  pn: number;
  /** The event's position in the change feed, written by the attempt that landed (or a restamp); absent before the feed. */
  fx?: string;
  [chunk: `p${number}`]: string;
};

/** Splits a string into chunks of at most 32,000 units, never between the two halves of a surrogate pair. */
export function chunks(text: string): string[] {
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

/** The entity of an event; `position` is its place in the change feed, where the driver has one. */
export function toEntity(event: StoredEvent, position?: string): TableEntity<EventEntity> {
  const { type, id, timestamp, data, metadata } = event;
  const parts = chunks(jsonText(metadata === undefined ? [type, id, timestamp, data] : [type, id, timestamp, data, metadata]));
  const entity: TableEntity<EventEntity> = { partitionKey: partitionKeyOf(event.key), rowKey: rowKey(event.sequence), pn: parts.length };
  if (position !== undefined) entity.fx = position;
  parts.forEach((part, i) => (entity[`p${i}`] = part));
  return entity;
}

/** Joins the chunks `p0`…`p{pn-1}` of an entity back into one string. */
export function joinChunks(entity: { pn: number; [chunk: `p${number}`]: string }): string {
  let text = '';
  for (let i = 0; i < entity.pn; i++) text += entity[`p${i}`];
  return text;
}

/** The feed position an event entity carries (`''` for one written before the feed). */
export const positionOf = (entity: { fx?: unknown }): string => (typeof entity.fx === 'string' ? entity.fx : FEED_START);

/** The event of an entity read from stream `key` (a long key cannot be decoded from its PartitionKey). */
export function fromEntity(entity: TableEntity<EventEntity>, key: string): StoredEvent {
  const [type, id, timestamp, data, metadata] = JSON.parse(joinChunks(entity));
  const event: StoredEvent = { key, sequence: Number(entity.rowKey), type, data, id, timestamp };
  if (metadata !== undefined) event.metadata = metadata;
  return event;
}
