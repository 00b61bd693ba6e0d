import type { StandardSchemaV1 } from '@standard-schema/spec';
import { UnknownEventTypeError, ValidationError } from './errors.js';
import type { EventMetadata, JsonValue, StoredEvent } from './types.js';

/** A domain event: a type name and its data. Data must be JSON-compatible at run time. */
export interface DomainEvent {
  type: string;
  data: unknown;
  metadata?: EventMetadata;
}

/** A domain event as read from a stream, with its envelope (key, sequence, id, timestamp). */
export type RecordedEvent<E extends DomainEvent> = E & Omit<StoredEvent, 'type' | 'data'>;

export interface EventDefinition<Data> {
  /** Validates (and may transform) the data, on write and on read: any Standard Schema (zod, valibot, arktype…). */
  schema?: StandardSchemaV1<unknown, Data>;
}

/** One entry per event type of the union `E`; the compiler says which are missing. */
export type EventDefinitions<E extends DomainEvent> = {
  [Type in E['type']]: EventDefinition<Extract<E, { type: Type }>['data']>;
};

/** Turns an event of an older shape (or an old type name) into a newer one. */
export type Upcaster = (event: { type: string; data: JsonValue }) => { type: string; data: JsonValue };

export interface EventRegistryOptions {
  /** Keyed by the old type name; applied repeatedly until the type is a registered one. */
  upcasters?: Record<string, Upcaster>;
}

export interface EventRegistry<E extends DomainEvent> {
  /** The registered type names. */
  readonly types: readonly E['type'][];
  /** Upcasts and validates a stored event. @throws UnknownEventTypeError, ValidationError */
  decode(event: StoredEvent): RecordedEvent<E>;
  /** Validates an event before it is written; returns it with the schema's output as data. @throws ValidationError */
  encode(event: E, path?: string): E;
}

const MAX_UPCASTS = 32;

/**
 * Maps event type names to their definitions, so stored events come back typed and checked.
 *
 * @example
 * ```ts
 * type CartEvent = { type: 'ItemAdded'; data: { sku: string } } | { type: 'CartCleared'; data: null };
 * const cartEvents = createEventRegistry<CartEvent>(
 *   { ItemAdded: { schema: z.object({ sku: z.string() }) }, CartCleared: {} },
 *   { upcasters: { ProductAdded: (old) => ({ type: 'ItemAdded', data: old.data }) } },
 * );
 * ```
 */
export function createEventRegistry<E extends DomainEvent>(
  definitions: EventDefinitions<E>,
  options: EventRegistryOptions = {},
): EventRegistry<E> {
  const known = new Map<string, EventDefinition<unknown>>(Object.entries(definitions));
  const upcasters = new Map(Object.entries(options.upcasters ?? {}));

  function validate(type: string, data: unknown, path: string): unknown {
    const schema = known.get(type)?.schema;
    if (!schema) return data;
    const result = schema['~standard'].validate(data);
    if (result instanceof Promise) throw new ValidationError(path, `the schema of ${type} is asynchronous; use a synchronous one`);
    if (result.issues) {
      const issues = result.issues.map((issue) => `${formatPath(issue.path)}${issue.message}`).join('; ');
      throw new ValidationError(path, `${type} data does not match its schema: ${issues}`);
    }
    return result.value;
  }

  function decode(stored: StoredEvent): RecordedEvent<E> {
    let current = { type: stored.type, data: stored.data };
    for (let steps = 0; !known.has(current.type); steps++) {
      const upcast = upcasters.get(current.type);
      if (!upcast || steps >= MAX_UPCASTS) throw new UnknownEventTypeError(stored.key, stored.sequence, current.type);
      current = upcast(current);
    }
    const data = validate(current.type, current.data, `stream ${JSON.stringify(stored.key)} sequence ${stored.sequence}`);
    return { ...stored, type: current.type, data } as unknown as RecordedEvent<E>;
  }

  function encode(event: E, path = 'event'): E {
    if (!known.has(event.type)) throw new ValidationError(`${path}.type`, `${JSON.stringify(event.type)} is not a registered event type`);
    return { ...event, data: validate(event.type, event.data, `${path}.data`) };
  }

  return { types: [...known.keys()] as E['type'][], decode, encode };
}

function formatPath(path: StandardSchemaV1.Issue['path']): string {
  if (!path || path.length === 0) return '';
  const parts = path.map((segment) => String(typeof segment === 'object' ? segment.key : segment));
  return `${parts.join('.')}: `;
}
