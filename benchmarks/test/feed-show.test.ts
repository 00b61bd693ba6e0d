import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { runFeedShow } from '../src/feed-show.js';

// Issue 12's show, on every server backend: 4 writer processes (one with its clock 3 s behind, one with
// the feed off every other 2.5 s) and 5 consumer processes (two sharing one name by slice ranges, one
// alone, two rivals of one name with overlapping ranges started in the same millisecond) for 20 s, with 5
// consumer and 5 writer SIGKILLs; then every stream read back and every consumer's log checked against it. LevelDB
// admits one process per directory, so it (and memory) are held to the feed in the conformance suite.
describe('the change feed under kills (feed show)', () => {
  it('the compiled worker exists (pnpm build)', () => {
    expect(existsSync(new URL('../dist/feed-worker.js', `file://${__filename}`))).toBe(true);
  });

  it.each(['mongodb', 'dynamodb', 'cassandra', 'azure-tables'] as const)('%s: every stored event reaches each consumer name, in order, repeats only after kills', async (backend) => {
    const report = await runFeedShow(backend, { seconds: 20 });
    console.info(`feed show on ${backend}: ${JSON.stringify(report)}`);
    expect(report.problems).toEqual([]);
    // What 20 s of writing reached (it moves with the machine's load); the checks above are on all of it.
    expect(report.acknowledgedCommits).toBeGreaterThan(0);
    expect(report.consumerKills).toBe(5);
    expect(report.writerKills).toBe(5);
    expect(report.lagMs.skewed.count).toBeGreaterThan(0);
    expect(report.rivals.refused).toHaveLength(1);
    expect(report.feedOffEvents).toBeGreaterThan(0);
  }, 900_000);
});
