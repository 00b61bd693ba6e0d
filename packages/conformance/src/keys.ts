import assert from 'node:assert/strict';
import { isValidationError, MAX_KEY_BYTES } from '@keyvent/core';
import { expectError, makeEvents, readAll, uniqueKey, type SuiteContext } from './context.js';

/** Pads `start` with `unit` up to exactly `bytes` UTF-8 bytes (unit must divide the remainder). */
function keyOfBytes(start: string, unit: string, bytes: number): string {
  const remaining = bytes - Buffer.byteLength(start);
  const unitBytes = Buffer.byteLength(unit);
  return start + 'x'.repeat(remaining % unitBytes) + unit.repeat(Math.floor(remaining / unitBytes));
}

export function keyCases({ it, store }: SuiteContext): void {
  async function roundTrip(key: string): Promise<void> {
    await store().append(key, makeEvents(2), { expectedVersion: 0 });
    const events = await readAll(store(), key);
    assert.deepEqual(events.map((event) => event.key), [key, key]);
    assert.equal(await store().streamVersion(key), 2);
    assert.deepEqual(await store().listStreams({ prefix: key }), [key]);
  }

  const special: [string, string][] = [
    ['a slash', 'a/b/'],
    ['a backslash', 'a\\b\\'],
    ['a hash', 'a#b#'],
    ['a question mark', 'a?b?'],
    ['a percent sign and escapes', 'a%2Fb%%'],
    ['spaces', ' a b '],
    ['emoji', 'cart-🛒-😀'],
    ['control characters', 'tab\tnew\nline\u0001\u001f\u007f'],
    ['every character some backend forbids at once', '/\\#?%\t\u0001'],
    ['quotes and brackets', `'"[]{}()<>`],
    ['non-Latin scripts', 'заказ-注文-طلب'],
  ];
  for (const [title, suffix] of special) {
    it(`round-trips and lists back a key with ${title}`, () => roundTrip(`${uniqueKey('keys')}${suffix}`));
  }

  it(`round-trips a key of exactly ${MAX_KEY_BYTES} ASCII bytes`, () => roundTrip(keyOfBytes(uniqueKey('keys'), 'k', MAX_KEY_BYTES)));

  it(`round-trips a key of exactly ${MAX_KEY_BYTES} bytes of 4-byte characters`, () =>
    roundTrip(keyOfBytes(uniqueKey('keys'), '😀', MAX_KEY_BYTES)));

  it('keeps canonically equivalent keys (NFC and NFD) as distinct streams', async () => {
    const base = uniqueKey('keys');
    const nfc = `${base}é`;
    const nfd = `${base}e\u0301`;
    await store().append(nfc, makeEvents(1, 'Composed'), { expectedVersion: 0 });
    await store().append(nfd, makeEvents(2, 'Decomposed'), { expectedVersion: 0 });
    assert.deepEqual((await readAll(store(), nfc)).map((event) => event.type), ['Composed']);
    assert.deepEqual((await readAll(store(), nfd)).map((event) => event.type), ['Decomposed', 'Decomposed']);
  });

  it('keeps a key apart from a longer key that starts with it', async () => {
    const short = uniqueKey('keys');
    const long = `${short}0000000000000001`;
    await store().append(short, makeEvents(1, 'Short'), { expectedVersion: 0 });
    await store().append(long, makeEvents(3, 'Long'), { expectedVersion: 0 });
    assert.deepEqual((await readAll(store(), short)).map((event) => event.type), ['Short']);
    assert.equal(await store().streamVersion(short), 1);
    assert.equal(await store().streamVersion(long), 3);
  });

  const refused: [string, unknown][] = [
    ['an empty key', ''],
    [`a key of ${MAX_KEY_BYTES + 1} bytes`, 'k'.repeat(MAX_KEY_BYTES + 1)],
    ['a key with a lone surrogate', 'bad-\ud800-key'],
    ['a key that is not a string', 42],
  ];
  for (const [title, key] of refused) {
    it(`refuses ${title} with a ValidationError`, async () => {
      const error = await expectError(() => store().append(key as string, makeEvents(1)), isValidationError, 'a ValidationError');
      assert.equal(error.path, 'key');
    });
  }
}
