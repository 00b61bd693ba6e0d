import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { StoredEvent } from '@keyvent/core';

/** The attribute names of an event item. Short, because names count towards the 400 KB item size. */
export const attributes = {
  key: 'pk',
  sequence: 'sk',
  type: 'ty',
  data: 'da',
  id: 'id',
  timestamp: 'ts',
  metadata: 'md',
  /** Set only on a stream's first event: the sparse index of stream keys for listing. */
  listed: 'ls',
} as const;

export const LISTING_INDEX = 'streams';
export const LISTED = 'streams';

export const itemKey = (key: string, sequence: number): Record<string, AttributeValue> => ({
  [attributes.key]: { S: key },
  [attributes.sequence]: { N: String(sequence) },
});

export function toItem(event: StoredEvent): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    ...itemKey(event.key, event.sequence),
    [attributes.type]: { S: event.type },
    [attributes.data]: { S: JSON.stringify(event.data) },
    [attributes.id]: { S: event.id },
    [attributes.timestamp]: { S: event.timestamp },
  };
  if (event.metadata !== undefined) item[attributes.metadata] = { S: JSON.stringify(event.metadata) };
  if (event.sequence === 1) item[attributes.listed] = { S: LISTED };
  return item;
}

export function fromItem(item: Record<string, AttributeValue>): StoredEvent {
  const event: StoredEvent = {
    key: item[attributes.key]!.S!,
    sequence: Number(item[attributes.sequence]!.N),
    type: item[attributes.type]!.S!,
    data: JSON.parse(item[attributes.data]!.S!),
    id: item[attributes.id]!.S!,
    timestamp: item[attributes.timestamp]!.S!,
  };
  const metadata = item[attributes.metadata]?.S;
  if (metadata !== undefined) event.metadata = JSON.parse(metadata);
  return event;
}
