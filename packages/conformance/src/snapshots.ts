import assert from 'node:assert/strict';
import { Aggregate, createEventRegistry, createRepository, snapshotStreamKey, type JsonValue } from '@keyvent/core';
import { readAll, uniqueKey, type SuiteContext } from './context.js';

type TallyEvent = { type: 'Added'; data: { n: number } };

class Tally extends Aggregate<TallyEvent> {
  sum = 0;
  applied = 0;
  add(n: number): void {
    this.raise({ type: 'Added', data: { n } });
  }
  protected apply(event: TallyEvent): void {
    this.sum += event.data.n;
    this.applied++;
  }
}

const registry = createEventRegistry<TallyEvent>({ Added: {} });

export function snapshotCases({ it, store }: SuiteContext): void {
  const tallies = (shape: number, restore = (tally: Tally, state: JsonValue) => void (tally.sum = state as number)) =>
    createRepository({
      store: store(),
      registry,
      create: (id) => new Tally(id),
      snapshots: { every: 10, shape, take: (tally) => tally.sum, restore },
    });

  async function tallyOf(length: number): Promise<string> {
    const id = uniqueKey('snapshots');
    const repository = tallies(1);
    const tally = repository.create(id);
    for (let n = 1; n <= length; n++) {
      tally.add(n);
      if (n % 7 === 0 || n === length) await repository.save(tally);
    }
    return id;
  }

  it('stores a snapshot through the driver every N events and loads from the latest plus the events after it', async () => {
    const id = await tallyOf(25);
    const snapshots = await readAll(store(), snapshotStreamKey(id));
    assert.deepEqual(snapshots.map((event) => [event.type, event.data]), [['$snapshot', { shape: 1, version: 14, state: 105 }], ['$snapshot', { shape: 1, version: 25, state: 325 }]]);
    await store().append(id, [{ type: 'Added', data: { n: 26 } }, { type: 'Added', data: { n: 27 } }], { expectedVersion: 25 });
    const loaded = await tallies(1).load(id);
    assert.equal(loaded.version, 27);
    assert.equal(loaded.sum, 378);
    assert.equal(loaded.applied, 2, 'only the events after the snapshot are replayed');
  });

  it('ignores a snapshot of another shape: replays every event and never calls restore with it', async () => {
    const id = await tallyOf(12);
    const loaded = await tallies(2, () => assert.fail('restore must not see a snapshot of shape 1')).load(id);
    assert.equal(loaded.sum, 78);
    assert.equal(loaded.applied, 12);
    const latest = (await readAll(store(), snapshotStreamKey(id), { direction: 'backward' }))[0]!;
    assert.deepEqual(latest.data, { shape: 2, version: 12, state: 78 }, 'loading took a snapshot of the new shape');
  });
}
