import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createProgram } from '../src/program.js';

const root = mkdtempSync(join(tmpdir(), 'keyvent-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function runDemo(location: string): Promise<string[]> {
  return keyvent('demo', '--data', location);
}

async function keyvent(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await createProgram((line) => lines.push(line)).parseAsync(['node', 'keyvent', ...args]);
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
    // 7 events in steps 1 to 5, 2 deposits in step 6.
    expect(text.match(/\(subscriber\) committed/g)).toHaveLength(9);
  });

  it('keeps a balances read model with a consumer of the change feed: stopped, resumed from its checkpoint with only the new events, idempotent, equal to the aggregates', async () => {
    const location = join(root, 'read-model');
    const text = (await runDemo(location)).join('\n');
    const suffix = /consumer named balances-(\w+) follows the store's change feed/.exec(text)?.[1];
    expect(suffix).toBeDefined();
    expect(text).toContain(`While steps 1 to 5 ran, consumer balances-${suffix} was handed 7 events from the change feed. The balances it computed:
   - Ada Lovelace: €100.00 (account/ada-${suffix}, events 1 to 5)
   - Alan Turing: €42.00 (account/alan-${suffix}, events 1 to 2)
   Stopped it. Its checkpoint, in the same LevelDB database, says it handled the feed up to commit 4.`);
    expect(text).toContain(`it resumed from its checkpoint and was handed only the 2 new events:
   - account/ada-${suffix}#6 MoneyDeposited (€25.00)
   - account/alan-${suffix}#3 MoneyDeposited (€8.00)`);
    expect(text).toContain('handed the same 2 events again, it applied 0 of them');
    expect(text).toContain('Read model and aggregates agree: Ada Lovelace €125.00 = €125.00, Alan Turing €50.00 = €50.00');
    expect(text).toContain("Ada's balance: €125.00 after 6 events.");

    // Its checkpoint is in the store, released, past the two deposits (commits 5 and 6).
    const [row] = (await keyvent('consumers', '-s', `level:${location}`, '--json')).map((line) => JSON.parse(line));
    expect(row).toMatchObject({ name: `balances-${suffix}#0-1023`, consumer: `balances-${suffix}`, slices: [0, 1023], worker: 'demo', lease: 'released', settledCommit: 6, commitsBehind: 0 });
  });

  it('adds to the same store when run again', async () => {
    const location = join(root, 'twice');
    await runDemo(location);
    const text = (await runDemo(location)).join('\n');
    expect(text).toContain('The store holds 4 account stream(s) (earlier runs included):');
    // A read model per run, from the end of the feed: this run's 7 events, not the first run's 9.
    expect(text).toMatch(/consumer balances-\w+ was handed 7 events from the change feed/);
    expect(text).toContain('says it handled the feed up to commit 10.');
    expect(text).toContain('Read model and aggregates agree: Ada Lovelace €125.00 = €125.00, Alan Turing €50.00 = €50.00');
    const rows = (await keyvent('consumers', '-s', `level:${location}`, '--json')).map((line) => JSON.parse(line));
    expect(rows.map((row) => [row.settledCommit, row.commitsBehind])).toEqual(expect.arrayContaining([[6, 6], [12, 0]]));
  });
});
