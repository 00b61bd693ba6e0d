import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/errors.js';
import { parseJsonArgument } from '../src/json-argument.js';

describe('parseJsonArgument: numbers that JSON cannot keep are refused at parse time, on every Node version', () => {
  it.each([
    ['2^53 - 1 and its negative, in every notation', '[9007199254740991,-9007199254740991,9007199254740991.0,9.007199254740991e15,-90071992547409910e-1]'],
    ['digits inside strings, an escaped quote and backslash among them', '{"id":"18446744073709551617","q":"a\\"99999999999999999999\\\\","k99999999999999999999":1,"z":"-0 1e400"}'],
    ['fractions and exponents within 2^53 - 1', '[1.5, -2.25e3, 1e-5, 0.1, 0, 0.0, 1E+15]'],
    ['no number at all', '"text"'],
  ])('accepts %s', (_, text) => {
    expect(parseJsonArgument(text, '<data>')).toEqual(JSON.parse(text));
  });

  it.each([
    ['2^53', '9007199254740992', '9007199254740992', '9007199254740992'],
    ['2^64 + 1, deep in an object after a string', '{"a":"x:1","b":[{"c":18446744073709551617}]}', '18446744073709551617', '18446744073709552000'],
    ['-(2^53 + 1)', '[-9007199254740993]', '-9007199254740993', '-9007199254740992'],
    ['2^53 + 1 with an exponent', '[9007199254740993e0]', '9007199254740993e0', '9007199254740992'],
    ['2^53 + 1 with a negative exponent', '[90071992547409930e-1]', '90071992547409930e-1', '9007199254740992'],
    ['2^53 + 1 with a fraction', '{"n":9007199254740993.0}', '9007199254740993.0', '9007199254740992'],
    ['2^64 + 1 with a fraction and an exponent', '[1.8446744073709551617e19]', '1.8446744073709551617e19', '18446744073709552000'],
    ['a double beyond 2^53 - 1, written as such', '[1e300]', '1e300', '1e+300'],
    ['a number beyond a double (Infinity)', '[1e400]', '1e400', 'Infinity'],
    ['a negative number beyond a double (-Infinity)', '[-1E+400]', '-1E+400', '-Infinity'],
  ])('refuses %s, naming it', (_, text, token, read) => {
    expect(() => parseJsonArgument(text, '<data>')).toThrow(UsageError);
    expect(() => parseJsonArgument(text, '<data>')).toThrow(
      `<data> holds ${token}, a number beyond 2^53 - 1 (9007199254740991) that JSON numbers cannot keep exact (it would be read as ${read}): write it as a string, "${token}"`,
    );
  });

  it.each([['-0'], ['-0.0'], ['-0e5'], ['-1e-400']])('refuses %s, read as -0 (which the core refuses), naming it', (token) => {
    expect(() => parseJsonArgument(`{"n":[1,${token}]}`, '--metadata')).toThrow(
      new UsageError(`--metadata holds ${token}, a negative zero that JSON does not keep (it reads back as 0): write 0`),
    );
  });
});
