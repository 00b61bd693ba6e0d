import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { createEventRegistry, UnknownEventTypeError, ValidationError, type StoredEvent } from '@keyvent/core';

type CartEvent =
  | { type: 'ItemAdded'; data: { sku: string; quantity: number } }
  | { type: 'CartCleared'; data: null };

const stored = (type: string, data: unknown, sequence = 1): StoredEvent => ({
  key: 'cart-1',
  sequence,
  type,
  data: data as StoredEvent['data'],
  id: `id-${sequence}`,
  timestamp: '2026-11-24T00:00:00.000Z',
});

const registry = createEventRegistry<CartEvent>(
  {
    ItemAdded: { schema: z.object({ sku: z.string().min(1), quantity: z.number().int().positive().default(1) }) },
    CartCleared: {},
  },
  {
    upcasters: {
      // v1 stored the product as `product` and had no quantity.
      'ItemAdded.v1': (old) => ({ type: 'ItemAdded.v2', data: { sku: (old.data as { product: string }).product } }),
      'ItemAdded.v2': (old) => ({ type: 'ItemAdded', data: old.data }),
      Loop: (old) => old,
    },
  },
);

describe('event registry', () => {
  it('decodes a registered event, keeping its envelope', () => {
    const event = registry.decode(stored('ItemAdded', { sku: 'A1', quantity: 2 }, 7));
    expect(event).toEqual({ ...stored('ItemAdded', { sku: 'A1', quantity: 2 }, 7) });
  });

  it('applies the schema output (defaults included) on read', () => {
    expect(registry.decode(stored('ItemAdded', { sku: 'A1' })).data).toEqual({ sku: 'A1', quantity: 1 });
  });

  it('upcasts an old event through a chain of upcasters', () => {
    const event = registry.decode(stored('ItemAdded.v1', { product: 'B2' }, 3));
    expect(event.type).toBe('ItemAdded');
    expect(event.data).toEqual({ sku: 'B2', quantity: 1 });
    expect(event.sequence).toBe(3);
  });

  it('refuses an unknown type, naming the stream, sequence and type', () => {
    const error = (() => {
      try {
        registry.decode(stored('Exploded', {}, 9));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnknownEventTypeError);
    expect(error).toMatchObject({ key: 'cart-1', sequence: 9, type: 'Exploded' });
    expect((error as Error).message).toContain('stream "cart-1" sequence 9: unknown event type "Exploded"');
  });

  it('stops an upcaster loop with UnknownEventTypeError', () => {
    expect(() => registry.decode(stored('Loop', {}))).toThrow(UnknownEventTypeError);
  });

  it('refuses stored data that does not match the schema, saying where', () => {
    expect(() => registry.decode(stored('ItemAdded', { sku: '', quantity: -1 }, 4))).toThrow(
      /stream "cart-1" sequence 4: ItemAdded data does not match its schema: sku: .*; quantity: /,
    );
  });

  it('validates events before writing', () => {
    expect(registry.encode({ type: 'ItemAdded', data: { sku: 'C3', quantity: 1 } })).toEqual({ type: 'ItemAdded', data: { sku: 'C3', quantity: 1 } });
    expect(() => registry.encode({ type: 'ItemAdded', data: { sku: 5 } } as never)).toThrow(ValidationError);
    expect(() => registry.encode({ type: 'Nope', data: null } as never)).toThrow(/"Nope" is not a registered event type/);
  });

  it('lists its types', () => {
    expect(registry.types).toEqual(['ItemAdded', 'CartCleared']);
  });

  it('refuses an asynchronous schema with a clear error', () => {
    const asyncRegistry = createEventRegistry<{ type: 'A'; data: string }>({
      A: { schema: z.string().refine(async () => true) },
    });
    expect(() => asyncRegistry.decode(stored('A', 'x'))).toThrow(/asynchronous/);
  });
});
