/** A value that survives JSON exactly: what event data and metadata may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Metadata stored with an event. `correlationId` and `causationId` are the conventional ones. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  [key: string]: JsonValue | undefined;
}

/** An event as the caller hands it to `append`. */
export interface NewEvent<Type extends string = string, Data extends JsonValue = JsonValue> {
  type: Type;
  data: Data;
  /** A unique id; one is generated (UUID v4) when absent. Supply your own to recognise a retried commit. */
  id?: string;
  metadata?: EventMetadata;
}

/** An event as it is stored and read back. */
export interface StoredEvent<Type extends string = string, Data extends JsonValue = JsonValue> {
  /** The stream key. */
  key: string;
  /** Position in the stream: 1, 2, 3, … with no gaps. */
  sequence: number;
  type: Type;
  data: Data;
  id: string;
  /** When the commit was made, ISO 8601 in UTC (e.g. `2026-11-24T10:00:00.000Z`). */
  timestamp: string;
  metadata?: EventMetadata;
}

/**
 * What the caller believes the stream's version (its last sequence) to be:
 * - a number: exactly that (0: the stream must not exist);
 * - `'no_stream'`: the stream must not exist (same as 0);
 * - `'exists'`: the stream must have at least one event; append after its head;
 * - `'any'`: no check; append after whatever the head is (retried, bounded, on a race).
 */
export type ExpectedVersion = number | 'no_stream' | 'exists' | 'any';
