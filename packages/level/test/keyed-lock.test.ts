import { expect, it, jest } from '@jest/globals';
import { streamLockOf } from '../src/keyed-lock.js';

it('gives every copy of the module the same stream lock for one database object, and another for another', () => {
  let copy: typeof import('../src/keyed-lock.js') | undefined;
  jest.isolateModules(() => {
    copy = require('../src/keyed-lock.js');
  });
  const db = {};
  expect(copy!.streamLockOf).not.toBe(streamLockOf);
  expect(copy!.streamLockOf(db)).toBe(streamLockOf(db));
  expect(streamLockOf({})).not.toBe(streamLockOf(db));
});

it('runs the tasks of one key one at a time, in order, and carries on after a failure', async () => {
  const run = streamLockOf({});
  const log: string[] = [];
  const task = (name: string, fail = false) => async () => {
    log.push(`start ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.push(`end ${name}`);
    if (fail) throw new Error(name);
    return name;
  };
  const outcomes = await Promise.allSettled([run('k', task('a', true)), run('k', task('b')), run('other', task('c'))]);
  expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  expect(log.filter((line) => !line.endsWith('c'))).toEqual(['start a', 'end a', 'start b', 'end b']);
  expect(log.indexOf('start c')).toBeLessThan(log.indexOf('end a'));
});
