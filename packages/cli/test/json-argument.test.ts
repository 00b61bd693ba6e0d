import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/errors.js';
import { parseJsonArgument } from '../src/json-argument.js';

describe('parseJsonArgument: integers beyond 2^53 - 1 are refused at parse time, on every Node version', () => {
  it.each([
    ['2^53 - 1 and its negative', '[9007199254740991,-9007199254740991]'],
    ['digits inside strings, an escaped quote and backslash among them', '{"id":"18446744073709551617","q":"a\\"99999999999999999999\\\\","k99999999999999999999":1}'],
    ['numbers written with a fraction or an exponent (doubles, as written)', '[1.5, 1e300, 18446744073709551617.0, 2E+20]'],
    ['no number at all', '"text"'],
  ])('accepts %s', (_, text) => {
    expect(parseJsonArgument(text, '<data>')).toEqual(JSON.parse(text));
  });

  it.each([
    ['2^53', '9007199254740992', '9007199254740992'],
    ['2^64 + 1, deep in an object after a string', '{"a":"x:1","b":[{"c":18446744073709551617}]}', '18446744073709551617'],
    ['-(2^53 + 1)', '[-9007199254740993]', '-9007199254740993'],
  ])('refuses %s, naming it', (_, text, number) => {
    expect(() => parseJsonArgument(text, '<data>')).toThrow(UsageError);
    expect(() => parseJsonArgument(text, '<data>')).toThrow(new RegExp(`^<data> holds ${number}, an integer beyond 2\\^53 - 1`));
  });
});
