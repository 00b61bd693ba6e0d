import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { assertStreamKey, createStore, isValidationError, type EventStore, type KeyValueDriver, type NewEvent } from '@keyvent/core';
import { expectError, makeEvents, readAll, wrapDriver, type SuiteContext } from './context.js';

/**
 * Hostile input, a few hundred cases: each is either refused with a ValidationError that names the
 * field and says why, with nothing sent to the driver's `putEvents`, or it round-trips exactly.
 * Where the outcome depends on the driver's limits, the case accepts either, but checks whichever happens.
 */
type Expect = 'refused' | 'kept' | 'either';

interface HostileCase {
  name: string;
  expect: Expect;
  /** The stream key, given a fresh unique prefix (the prefix itself when absent). */
  key?: (unique: string) => unknown;
  /** The commit (a single event when absent). */
  events?: () => unknown;
  /** A call other than an append, which must be refused. */
  call?: (store: EventStore, key: string) => Promise<unknown>;
}

const KEY_ROOT = 'conformance/hostile';
const MiB = 1024 * 1024;
const event = (data: unknown): unknown => [{ type: 'Hostile', data }];

function keyCases(): HostileCase[] {
  const kept = (name: string, fragment: string): HostileCase => ({ name: `key with ${name}`, expect: 'kept', key: (unique) => `${unique}/${fragment}` });
  const controls = [...Array(0x20).keys(), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)].map((code) =>
    kept(`U+${code.toString(16).padStart(4, '0').toUpperCase()}`, `a${String.fromCharCode(code)}b`),
  );
  const punctuation = [...`/\\#?%$.*'";:,|<>[]{}()&+=~\`^@! `].map((char) => kept(JSON.stringify(char), `x${char}${char}y`));
  const words: [string, string][] = [
    ['a path', '../../etc/passwd'], ['an escaped slash', '%2F%2f'], ['an escaped NUL', '%00'], ['a template', '${process.env}'],
    ['a NoSQL operator', '{"$gt":""}'], ['SQL', "'; DROP TABLE events; --"], ['CQL', "a' IF EXISTS; --"], ['a head row name', '~head'],
    ['a line separator', 'a\u2028b'], ['a BOM', '\uFEFFkey'], ['a right-to-left override', 'a\u202Eb'], ['NFD é', 'e\u0301'], ['NFC é', '\u00E9'],
    ['a zero-width space', 'a\u200Bb'], ['an emoji ZWJ family', '👨‍👩‍👧‍👦'], ['U+FFFF', '\uFFFF'], ['U+FFFE', '\uFFFE'],
    ['U+10FFFF', '\u{10FFFF}'], ['Hangul', '한국어'], ['CJK', '事件溯源'], ['Arabic', 'حدث'], ['trailing spaces', 'key   '],
    ['only spaces', '   '], ['a Windows device name', 'CON'], ['a dot', '.'], ['a query string', '?a=1&b=2'], ['a fragment', '#top'],
    ['a URL', 'https://user:pw@host:1/p?q#f'], ['percent signs', '100%%'], ['a backslash run', '\\\\\\'], ['a tab and newline', 'a\tb\nc\r'],
  ];
  /** A key of `unique` (ASCII) padded to a size. */
  const sized = (name: string, expect: Expect, pad: (room: number) => string): HostileCase => ({
    name: `key of ${name}`,
    expect,
    key: (unique) => unique + pad(1024 - unique.length),
  });
  const refusedKey = (name: string, key: unknown): HostileCase => ({ name: `key ${name}`, expect: 'refused', key: () => key });
  return [
    ...controls,
    ...punctuation,
    ...words.map(([name, fragment]) => kept(name, fragment)),
    sized('1,024 ASCII bytes', 'kept', (room) => 'k'.repeat(room)),
    sized('1,024 bytes ending in 4-byte characters', 'kept', (room) => `${'k'.repeat(room % 4)}${'😀'.repeat(Math.floor(room / 4))}`),
    sized('1,024 bytes ending in 2-byte characters', 'kept', (room) => `${'k'.repeat(room % 2)}${'é'.repeat(Math.floor(room / 2))}`),
    sized('1,025 bytes', 'refused', (room) => 'k'.repeat(room + 1)),
    sized('1,023 bytes and a 2-byte character', 'refused', (room) => `${'k'.repeat(room - 1)}é`),
    sized('1 MiB', 'refused', () => 'k'.repeat(MiB)),
    sized('1 MiB of NUL', 'refused', () => '\0'.repeat(MiB)),
    refusedKey('that is empty', ''),
    refusedKey('with a lone high surrogate', 'a\uD800b'),
    refusedKey('with a lone low surrogate', 'a\uDFFFb'),
    refusedKey('with a reversed surrogate pair', '\uDC00\uD800'),
    refusedKey('ending in a high surrogate', 'key\uD83D'),
    refusedKey('that is a number', 42),
    refusedKey('that is null', null),
    refusedKey('that is undefined', undefined),
    refusedKey('that is an object', { toString: () => 'key' }),
    refusedKey('that is an array', ['key']),
    refusedKey('that is a String object', new String('key')),
    refusedKey('that is a symbol', Symbol('key')),
  ];
}

function cycle(): unknown {
  const value: Record<string, unknown> = { a: 1 };
  value['self'] = value;
  return value;
}

function arrayCycle(): unknown {
  const value: unknown[] = [1];
  value.push({ back: value });
  return value;
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { d: value };
  return value;
}

function dataCases(): HostileCase[] {
  const refused = (name: string, data: () => unknown): HostileCase => ({ name: `data ${name}`, expect: 'refused', events: () => event(data()) });
  const kept = (name: string, data: () => unknown): HostileCase => ({ name: `data ${name}`, expect: 'kept', events: () => event(data()) });
  class Money {
    amount = 1;
  }
  const nullPrototype = Object.assign(Object.create(null) as object, { a: 1 });
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  return [
    refused('with a cycle', cycle),
    refused('with a cycle through an array', arrayCycle),
    refused('that is a BigInt', () => 10n),
    refused('holding a BigInt', () => ({ amount: 2n ** 64n })),
    refused('that is a function', () => () => 1),
    refused('holding a function', () => ({ run() {} })),
    refused('holding a toJSON function', () => ({ toJSON: () => 'x' })),
    refused('that is a symbol', () => Symbol('s')),
    refused('holding a symbol key', () => ({ [Symbol('s')]: 1 })),
    refused('that is undefined', () => undefined),
    refused('holding undefined', () => ({ a: undefined })),
    refused('holding undefined in an array', () => [1, undefined]),
    refused('that is NaN', () => NaN),
    refused('that is Infinity', () => Infinity),
    refused('that is -Infinity', () => -Infinity),
    refused('holding NaN', () => ({ price: NaN })),
    refused('holding Infinity in an array', () => [Infinity]),
    refused('that is -0', () => -0),
    refused('holding -0', () => ({ balance: -0 })),
    refused('that is a Date', () => new Date(0)),
    refused('holding a Date', () => ({ at: new Date(0) })),
    refused('that is a Map', () => new Map([['a', 1]])),
    refused('that is a Set', () => new Set([1])),
    refused('that is a RegExp', () => /x/),
    refused('that is a Uint8Array', () => new Uint8Array([1, 2])),
    refused('that is a Buffer', () => Buffer.from('x')),
    refused('that is an ArrayBuffer', () => new ArrayBuffer(4)),
    refused('that is a class instance', () => new Money()),
    refused('that is an Error', () => new Error('x')),
    refused('that is a Promise', () => Promise.resolve(1)),
    refused('that is a WeakMap', () => new WeakMap()),
    refused('that is a Number object', () => new Number(1)),
    refused('that is a String object', () => new String('x')),
    refused('that is a Boolean object', () => new Boolean(true)),
    refused('whose prototype is not Object', () => Object.create({ inherited: 1 }) as unknown),
    refused('that is a sparse array', () => sparse),
    refused('with a lone surrogate in a string', () => ({ name: 'a\uD800' })),
    refused('with a lone surrogate in a key', () => ({ ['k\uDC00']: 1 })),
    refused('nested 300 levels deep', () => nested(300)),
    refused('that is a generator', () => (function* generate() {})()),
    kept('with an own __proto__ key', () => JSON.parse('{"__proto__":{"polluted":true}}')),
    kept('with a constructor key', () => ({ constructor: { prototype: { polluted: true } } })),
    kept('with prototype and toString keys', () => ({ prototype: 1, toString: 'x', valueOf: 2, hasOwnProperty: 3 })),
    kept('with MongoDB operators as keys', () => ({ $set: { a: 1 }, $where: 'sleep(1000)', $ne: null })),
    kept('with dotted keys', () => ({ 'a.b': 1, '.': 2, 'a..b': 3 })),
    kept('with an empty key', () => ({ '': 1 })),
    kept('with NUL and control characters in keys', () => ({ '\0': 1, '\u0001\u001f': 2, '\n': 3 })),
    kept('with integer-like keys', () => ({ '10': 'a', '2': 'b', '-1': 'c', '01': 'd' })),
    kept('with a null-prototype object', () => nullPrototype),
    kept('that is 2^53 - 1', () => Number.MAX_SAFE_INTEGER),
    kept('that is -(2^53 - 1)', () => Number.MIN_SAFE_INTEGER),
    kept('that is 2^53 (exact as a double)', () => 2 ** 53),
    kept('that is 1e308', () => 1e308),
    kept('that is the smallest double', () => 5e-324),
    kept('that is 0.1 + 0.2', () => 0.1 + 0.2),
    kept('that is -1e-7', () => -1e-7),
    kept('that is a string with NUL', () => 'a\0b\0'),
    kept('that is a string with line separators', () => 'a\u2028b\u2029c'),
    kept('that is a string of emoji', () => '👨‍👩‍👧‍👦🏳️‍🌈'),
    kept('that is U+FFFF and U+FFFE', () => '\uFFFF\uFFFE'),
    kept('that is a 100 KiB string', () => 'x'.repeat(100 * 1024)),
    kept('nested 200 levels deep', () => nested(200)),
    kept('that is an array of 10,000 numbers', () => Array.from({ length: 10_000 }, (_, i) => i * 1.5)),
    kept('that is an object with 1,000 keys', () => Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]))),
    kept('that is an empty object', () => ({})),
    kept('that is an empty array', () => []),
    kept('that is an empty string', () => ''),
    kept('that is null', () => null),
    kept('that is false', () => false),
    kept('that is a JSON text', () => '{"type":"Injected","data":1}'),
    kept('with a Proxy of a plain object', () => new Proxy({ a: 1 }, {})),
    kept('with a frozen object', () => Object.freeze({ a: Object.freeze([1]) })),
    kept('of mixed types', () => [null, true, 0, '', [], {}, [[[]]], { a: [{ b: null }] }]),
  ];
}

function eventCases(): HostileCase[] {
  const commit = (name: string, expect: Expect, events: () => unknown): HostileCase => ({ name, expect, events });
  const one = (name: string, expect: Expect, fields: Record<string, unknown>) => commit(name, expect, () => [{ type: 'Hostile', data: 1, ...fields }]);
  return [
    one('type that is empty', 'refused', { type: '' }),
    one('type of 257 characters', 'refused', { type: 't'.repeat(257) }),
    one('type of 256 characters', 'kept', { type: 't'.repeat(256) }),
    one('type that is a number', 'refused', { type: 7 }),
    one('type that is null', 'refused', { type: null }),
    one('type with a lone surrogate', 'refused', { type: 'T\uD800' }),
    one('type with NUL and emoji', 'kept', { type: 'T\0😀' }),
    one('type with $ and dots', 'kept', { type: '$set.a.b' }),
    one('type with line separators', 'kept', { type: 'T\u2028\u2029' }),
    one('data missing', 'refused', { data: undefined }),
    one('id that is empty', 'refused', { id: '' }),
    one('id of 257 characters', 'refused', { id: 'i'.repeat(257) }),
    one('id that is a number', 'refused', { id: 12 }),
    one('id with NUL and emoji', 'kept', { id: `\0😀${randomUUID()}` }),
    one('id with a line separator', 'kept', { id: `\u2028${randomUUID()}` }),
    one('metadata that is an array', 'refused', { metadata: [] }),
    one('metadata that is null', 'refused', { metadata: null }),
    one('metadata that is a string', 'refused', { metadata: 'm' }),
    one('metadata with a numeric correlationId', 'refused', { metadata: { correlationId: 1 } }),
    one('metadata with a cycle', 'refused', { metadata: cycle() }),
    one('metadata with a BigInt', 'refused', { metadata: { n: 1n } }),
    one('metadata with an own __proto__ key', 'kept', { metadata: JSON.parse('{"__proto__":{"x":1},"causationId":"c"}') }),
    one('metadata with operators', 'kept', { metadata: { $inc: { n: 1 }, 'a.b': true } }),
    commit('a lone event (not an array) with unknown extra fields', 'kept', () => ({ type: 'T', data: 1, length: 1, sequence: 99 })),
    commit('a commit that is a string', 'refused', () => 'events'),
    commit('a commit that is null', 'refused', () => null),
    commit('an empty commit', 'refused', () => []),
    commit('a commit holding null', 'refused', () => [null]),
    commit('a commit holding a number', 'refused', () => [1]),
    commit('a commit holding an array', 'refused', () => [[{ type: 'T', data: 1 }]]),
    commit('a commit whose second event is bad', 'refused', () => [{ type: 'T', data: 1 }, { type: 'T', data: NaN }]),
    commit('a commit with one id twice', 'refused', () => [{ type: 'T', data: 1, id: 'same' }, { type: 'T', data: 2, id: 'same' }]),
    commit('a commit of 10,000 events', 'either', () => makeEvents(10_000)),
    commit('a commit of 1,001 events', 'either', () => makeEvents(1001)),
    commit('an event of 2 MiB', 'either', () => event('x'.repeat(2 * MiB))),
    commit('an event of 2 MiB of 3-byte characters', 'either', () => event('€'.repeat((2 * MiB) / 3))),
    commit('a commit of 8 events of 1 MiB', 'either', () => Array.from({ length: 8 }, () => ({ type: 'T', data: 'x'.repeat(MiB) }))),
  ];
}

function callCases(): HostileCase[] {
  const call = (name: string, run: (store: EventStore, key: string) => Promise<unknown>): HostileCase => ({ name, expect: 'refused', call: run });
  const versions: [string, unknown][] = [
    ['-1', -1], ['2^60', 2 ** 60], ['2^53', 2 ** 53], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['1.5', 1.5],
    ['the string "1"', '1'], ['an empty string', ''], ["'ANY'", 'ANY'], ['null', null], ['true', true], ['an object', {}], ['an array', [1]],
    ['a BigInt', 1n],
  ];
  const reads: [string, Record<string, unknown>][] = [
    ['from 0', { from: 0 }], ['from -1', { from: -1 }], ['from NaN', { from: NaN }], ['from 1.5', { from: 1.5 }], ["from '1'", { from: '1' }],
    ['to 0', { to: 0 }], ['to Infinity', { to: Infinity }], ['pageSize 0', { pageSize: 0 }], ['pageSize -5', { pageSize: -5 }],
    ['pageSize NaN', { pageSize: NaN }], ["direction 'sideways'", { direction: 'sideways' }],
  ];
  const lists: [string, Record<string, unknown>][] = [
    ['limit 0', { limit: 0 }], ['limit -1', { limit: -1 }], ['limit 10,001', { limit: 10_001 }], ['limit NaN', { limit: NaN }],
    ['prefix 5', { prefix: 5 }], ["startAfter ''", { startAfter: '' }], ['startAfter with a lone surrogate', { startAfter: '\uD800' }],
  ];
  const imports: [string, (key: string) => unknown][] = [
    ['sequence 0', (key) => [{ key, sequence: 0, type: 'T', data: 1, id: 'i', timestamp: new Date().toISOString() }]],
    ['sequence -1', (key) => [{ key, sequence: -1, type: 'T', data: 1, id: 'i', timestamp: new Date().toISOString() }]],
    ['sequence NaN', (key) => [{ key, sequence: NaN, type: 'T', data: 1, id: 'i', timestamp: new Date().toISOString() }]],
    ['no id', (key) => [{ key, sequence: 1, type: 'T', data: 1, timestamp: new Date().toISOString() }]],
    ['a bad timestamp', (key) => [{ key, sequence: 1, type: 'T', data: 1, id: 'i', timestamp: 'now' }]],
    ['data NaN', (key) => [{ key, sequence: 1, type: 'T', data: NaN, id: 'i', timestamp: new Date().toISOString() }]],
    ['data with a cycle', (key) => [{ key, sequence: 1, type: 'T', data: cycle(), id: 'i', timestamp: new Date().toISOString() }]],
    ['data BigInt', (key) => [{ key, sequence: 1, type: 'T', data: { n: 1n }, id: 'i', timestamp: new Date().toISOString() }]],
    // Two commits (two timestamps): the second one's bad data refuses the import before the first is written.
    ['a function in its second commit', (key) => [
      { key, sequence: 1, type: 'T', data: 1, id: 'i1', timestamp: '2026-01-01T00:00:00.000Z' },
      { key, sequence: 2, type: 'T', data: { f: () => 1 }, id: 'i2', timestamp: '2026-01-01T00:00:01.000Z' },
    ]],
    ['one id twice in a commit', (key) => [
      { key, sequence: 1, type: 'T', data: 1, id: 'i', timestamp: '2026-01-01T00:00:00.000Z' },
      { key, sequence: 2, type: 'T', data: 2, id: 'i', timestamp: '2026-01-01T00:00:00.000Z' },
    ]],
    ['not an array', () => 'events'],
  ];
  return [
    ...versions.map(([name, expectedVersion]) =>
      call(`expectedVersion ${name}`, (store, key) => store.append(key, { type: 'T', data: 1 }, { expectedVersion: expectedVersion as never })),
    ),
    ...reads.map(([name, options]) => call(`readStream with ${name}`, (store, key) => readAll(store, key, options as never))),
    ...lists.map(([name, options]) => call(`listStreams with ${name}`, (store) => store.listStreams(options as never))),
    ...imports.map(([name, events]) => call(`importEvents with ${name}`, (store, key) => store.importEvents(key, events(key) as never))),
  ];
}

/** Every hostile case of the suite; exported so its size can be reported. */
export const hostileCases: readonly HostileCase[] = [...keyCases(), ...dataCases(), ...eventCases(), ...callCases()];

/** A store over the suite's driver that counts `putEvents` calls. */
function countingStore(driver: KeyValueDriver) {
  const counter = { puts: 0 };
  const counted = wrapDriver(driver, { putEvents: (events, options) => (counter.puts++, driver.putEvents(events, options)) });
  return { store: createStore(counted), counter };
}

/** A key the store would accept (so a refused case can check that its stream stayed empty). */
function isWritableKey(key: unknown): key is string {
  try {
    assertStreamKey(key);
    return true;
  } catch {
    return false;
  }
}

/** The stored form of a commit: what JSON keeps of each event's type, data and metadata. */
const asJson = (events: readonly Pick<NewEvent, 'type' | 'data' | 'metadata'>[]) =>
  events.map(({ type, data, metadata }) => JSON.parse(JSON.stringify({ type, data, metadata })) as unknown);

export function hostileInputCases({ it, driver }: SuiteContext): void {
  let counting: ReturnType<typeof countingStore> | undefined;

  for (const hostile of hostileCases) {
    it(hostile.name, async () => {
      const { store, counter } = (counting ??= countingStore(driver()));
      const unique = `${KEY_ROOT}/${randomUUID()}`;
      const key = hostile.key ? hostile.key(unique) : unique;
      const puts = counter.puts;
      if (hostile.call) {
        const error = await expectError(() => hostile.call!(store, unique), isValidationError, 'a ValidationError');
        assert.ok(error.message.length > error.path.length + 4, `the error says why: ${error.message}`);
        assert.equal(counter.puts, puts, 'nothing may reach putEvents');
        return;
      }
      const events = (hostile.events ?? (() => event(1)))() as NewEvent[];
      const outcome = await store.append(key as string, events, { expectedVersion: 'no_stream' }).then(
        () => 'kept' as const,
        (error: unknown) => {
          if (!isValidationError(error)) throw new Error(`expected a ValidationError or success, got ${String(error)}`, { cause: error });
          assert.ok(error.message.length > error.path.length + 4, `the error says why: ${error.message}`);
          return 'refused' as const;
        },
      );
      if (hostile.expect !== 'either') assert.equal(outcome, hostile.expect);
      if (outcome === 'refused') {
        assert.equal(counter.puts, puts, 'nothing may reach putEvents');
        if (isWritableKey(key)) assert.equal(await store.streamVersion(key), 0);
        return;
      }
      const read = await readAll(store, key as string);
      assert.deepStrictEqual(asJson(read), asJson(Array.isArray(events) ? events : [events]));
      assert.ok(read.every((stored) => stored.key === key));
      if (hostile.key) assert.deepEqual(await store.listStreams({ prefix: key as string, limit: 2 }), [key]);
    });
  }
}
