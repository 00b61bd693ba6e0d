import { randomInt } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { compareKeys } from '@keyvent/core';
import { directoryRange, directoryRowKey } from '../src/directory.js';

const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const ALPHABET = ['a', 'b', '/', '%', '\u0000', '~', 'ä', '\u2028', '\uffee', '\uffff', '😀', '\u{10ffff}', 'z'];
const randomKey = (length: number) => Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

describe('the Azure directory RowKey', () => {
  it('sorts as the keys do in code point order, with no character Azure forbids, within 512 units', () => {
    const keys = [...new Set(Array.from({ length: 3000 }, () => randomKey(1 + randomInt(12))).concat(['a', 'a\u0000', 'a\u0000\u0000', 'ab', 'x'.repeat(850)]))];
    const byKey = [...keys].sort(compareKeys);
    const byRowKey = [...keys].sort((a, b) => (directoryRowKey(a) < directoryRowKey(b) ? -1 : 1));
    expect(byRowKey).toEqual(byKey);
    for (const key of keys) {
      expect(directoryRowKey(key)).not.toMatch(FORBIDDEN);
      expect(directoryRowKey(key).length).toBeLessThanOrEqual(512);
    }
  });

  it('gives a key of up to 1,024 bytes a RowKey of at most 512 units, sorted after the shorter keys of its first 800 bytes', () => {
    const head = 'k'.repeat(800);
    expect(directoryRowKey(`${head}${'z'.repeat(224)}`).length).toBeLessThanOrEqual(512);
    expect(directoryRowKey(`${head}a`) < directoryRowKey(`${head}${'z'.repeat(224)}`)).toBe(true);
    expect(directoryRowKey(head) < directoryRowKey(`${head}${'a'.repeat(224)}`)).toBe(true);
  });

  it('puts the keys under a prefix, and only those, in the prefix range', () => {
    for (let round = 0; round < 200; round++) {
      const prefix = randomKey(1 + randomInt(4));
      const { from, to } = directoryRange(prefix);
      for (let i = 0; i < 50; i++) {
        const key = i % 2 === 0 ? prefix + randomKey(randomInt(5)) : randomKey(1 + randomInt(6));
        const rowKey = directoryRowKey(key);
        const inRange = rowKey >= from && (to === undefined || rowKey < to);
        expect([key, inRange]).toEqual([key, key.startsWith(prefix)]);
      }
    }
  });
});
