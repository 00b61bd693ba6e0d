import assert from 'node:assert/strict';
import { isValidationError, type EventMetadata, type JsonValue } from '@keyvent/core';
import { expectError, readAll, uniqueKey, type SuiteContext } from './context.js';

const faithful: [string, JsonValue][] = [
  ['unicode text in many scripts and emoji', { text: 'naïve café — 日本語 — עברית — 🧪🚀', zeroWidth: 'a\u200bb' }],
  ['escapes and control characters in strings', { text: 'quote " backslash \\ newline \n tab \t bell \u0007' }],
  ['nested arrays', [[1, [2, [3, [4, []]]]], [], [[]]]],
  ['nested objects', { a: { b: { c: { d: { e: 'deep' } } } } }],
  ['null, and null inside objects and arrays', { nothing: null, list: [null, 1, null] }],
  ['empty strings, objects and arrays', { string: '', object: {}, array: [] }],
  ['integers up to 2^53 - 1, negative ones and zero', { max: Number.MAX_SAFE_INTEGER, min: -Number.MAX_SAFE_INTEGER, zero: 0 }],
  ['fractions and extreme doubles', { third: 1 / 3, tiny: 5e-324, huge: 1.7976931348623157e308, negative: -0.5 }],
  ['booleans', { yes: true, no: false, list: [true, false] }],
  ["object keys '$set', '$inc' and '$'", { $set: { a: 1 }, $inc: 2, $: 3 }],
  ["object keys with dots such as 'a.b'", { 'a.b': 1, '.': 2, 'x.y.z': { 'p.q': 3 } }],
  ['empty and whitespace object keys', { '': 'empty', ' ': 'space' }],
  ["a 'constructor' key", { constructor: 'not a function', prototype: 1 }],
  ['a string as the whole data', 'just text'],
  ['a number as the whole data', 42.5],
  ['an array as the whole data', ['a', 1, null]],
  ['null as the whole data', null],
];

const unsafe: [string, unknown][] = [
  ['undefined as a value', { a: undefined }],
  ['a function', { f: () => 1 }],
  ['NaN', { n: Number.NaN }],
  ['Infinity', { n: Number.POSITIVE_INFINITY }],
  ['a BigInt', { n: BigInt(1) }],
  ['a symbol', { s: Symbol('s') }],
  ['a Date instance', { when: new Date(0) }],
  ['a Map', { m: new Map() }],
  ['a sparse array', [1, , 3]],
  ['a string with a lone surrogate', { s: 'a\udc00b' }],
];

function cycle(): unknown {
  const node: Record<string, unknown> = { name: 'loop' };
  node.self = node;
  return node;
}

export function dataCases({ it, store }: SuiteContext): void {
  async function roundTrip(data: JsonValue): Promise<JsonValue> {
    const key = uniqueKey('data');
    await store().append(key, { type: 'Data', data }, { expectedVersion: 0 });
    const [event] = await readAll(store(), key);
    return event!.data;
  }

  for (const [title, data] of faithful) {
    it(`round-trips ${title}`, async () => {
      assert.deepEqual(await roundTrip(data), data);
    });
  }

  it("round-trips a '__proto__' key as data without polluting prototypes", async () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as JsonValue;
    const back = (await roundTrip(data)) as Record<string, unknown>;
    assert.ok(Object.prototype.hasOwnProperty.call(back, '__proto__'), 'the __proto__ key was lost');
    assert.deepEqual(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, { polluted: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(back.ok, 1);
  });

  it('round-trips a 64 KiB string', async () => {
    const data = { big: 'é'.repeat(32 * 1024) };
    assert.deepEqual(await roundTrip(data), data);
  });

  it('round-trips metadata with correlation and causation ids', async () => {
    const key = uniqueKey('data');
    const metadata: EventMetadata = { correlationId: 'c-1', causationId: 'e-9', user: { id: 7, roles: ['admin'] }, 'a.b': '$x' };
    await store().append(key, { type: 'WithMetadata', data: {}, metadata });
    const [event] = await readAll(store(), key);
    assert.deepEqual(event!.metadata, metadata);
  });

  it('reads back no metadata for an event stored without it', async () => {
    const key = uniqueKey('data');
    await store().append(key, { type: 'Plain', data: {} });
    const [event] = await readAll(store(), key);
    assert.equal(event!.metadata, undefined);
  });

  for (const [title, data] of [...unsafe, ['a cycle', cycle()] as [string, unknown]]) {
    it(`refuses data with ${title} with a ValidationError and writes nothing`, async () => {
      const key = uniqueKey('data');
      const error = await expectError(() => store().append(key, { type: 'Bad', data: data as JsonValue }), isValidationError, 'a ValidationError');
      assert.match(error.path, /^events\[0\]\.data/);
      assert.equal(await store().streamVersion(key), 0);
    });
  }

  it('refuses metadata whose correlationId is not a string', async () => {
    const key = uniqueKey('data');
    const metadata = { correlationId: 5 } as unknown as EventMetadata;
    const error = await expectError(() => store().append(key, { type: 'T', data: null, metadata }), isValidationError, 'a ValidationError');
    assert.equal(error.path, 'events[0].metadata.correlationId');
  });
}
