import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createProgram } from '../src/program.js';

const root = mkdtempSync(join(tmpdir(), 'keyvent-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function runDemo(location: string): Promise<string[]> {
  const lines: string[] = [];
  await createProgram((line) => lines.push(line)).parseAsync(['node', 'keyvent', 'demo', '--data', location]);
  return lines;
}

describe('keyvent demo', () => {
  it('tells the whole story on the LevelDB store: events, a refused rule, rehydration, a refused race and its retry, listing', async () => {
    const text = (await runDemo(join(root, 'once'))).join('\n');
    expect(text).toMatch(/Saved them as one atomic commit: stream account\/ada-\w+ is now at version 3\./);
    expect(text).toContain('Refused: cannot withdraw €500.00: the balance is €70.00. The stream stays at version 3.');
    expect(text).toContain("Rehydrated: Ada Lovelace's balance is €70.00 at version 3.");
    expect(text).toMatch(/Teller B's save was refused: \[level\] stream "account\/ada-\w+": expected version 3, actual version 4/);
    expect(text).toContain('Teller B withdrew €20.00: version 5, balance €100.00.');
    expect(text).toContain('The store holds 2 account stream(s):');
    expect(text.match(/\(subscriber\) committed/g)).toHaveLength(7);
  });

  it('adds to the same store when run again', async () => {
    const location = join(root, 'twice');
    await runDemo(location);
    const text = (await runDemo(location)).join('\n');
    expect(text).toContain('The store holds 4 account stream(s) (earlier runs included):');
  });
});
