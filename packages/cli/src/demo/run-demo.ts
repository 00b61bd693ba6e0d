import { randomUUID } from 'node:crypto';
import {
  createConsumer,
  createRepository,
  createStore,
  isConcurrencyError,
  stampOf,
  type Consumer,
  type EventStore,
  type FeedEvent,
  type KeyValueDriver,
  type StoredEvent,
} from '@keyvent/core';
import { createLevelDriver } from '@keyvent/level';
import { Balances } from './balances.js';
import { accountEvents, BankAccount, DomainRuleError, formatMoney, type AccountEvent } from './bank-account.js';

export interface DemoOptions {
  /** Directory of the LevelDB store; it should be empty or hold an earlier demo's data. */
  location: string;
  print: (line: string) => void;
}

function describeEvent(event: StoredEvent): string {
  const data = event.data as AccountEvent['data'];
  const detail = 'amount' in data ? formatMoney(data.amount) : `owner ${data.owner}`;
  return `${event.key}#${event.sequence} ${event.type} (${detail})`;
}

/** Polls `done` until it holds; fails after `ms`, naming `what`. */
async function waitUntil(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !done(); await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() > deadline) throw new Error(`the demo waited ${ms} ms for ${what}`);
  }
}

/**
 * The demo: a bank account as an event-sourced aggregate on the embedded LevelDB store, and a read model
 * of the balances kept by a consumer of the change feed. Every step says what it does, so a newcomer can
 * follow how commands become events, events become state, and the feed feeds a read model.
 */
export async function runDemo({ location, print }: DemoOptions): Promise<void> {
  const driver = createLevelDriver({ location });
  const store = createStore(driver);
  try {
    await tellTheStory(store, driver, print, location);
  } finally {
    // Stops a consumer still running (it saves its checkpoint first).
    await store.close();
  }
}

async function tellTheStory(store: EventStore, driver: KeyValueDriver, print: (line: string) => void, location: string): Promise<void> {
  const accounts = createRepository({
    store,
    registry: accountEvents,
    create: (id) => new BankAccount(id),
    streamKey: (id) => `account/${id}`,
  });
  const step = (title: string) => print(`\n== ${title}`);
  const suffix = randomUUID().slice(0, 8);
  const ada = `ada-${suffix}`;
  const alan = `alan-${suffix}`;

  print(`keyvent demo: a bank account, event-sourced, stored in an embedded LevelDB database at ${location}`);
  store.subscribe((event) => print(`   (subscriber) committed ${describeEvent(event)}`));

  // The read model: a consumer of the change feed, started now, so the steps below feed it as they write.
  // One name per run, as its rows live in this process's memory (its checkpoint is in the store).
  const consumerName = `balances-${suffix}`;
  const balances = new Balances();
  const delivered: FeedEvent[] = [];
  const startConsumer = (): Consumer =>
    createConsumer(store, {
      name: consumerName,
      worker: 'demo',
      from: 'end',
      pollMs: 20,
      handler: (events) => {
        delivered.push(...events);
        balances.apply(events);
      },
      onError: (error) => print(`   (read model) ${String(error)}; trying again`),
    });
  let consumer = startConsumer();
  print(`A consumer named ${consumerName} follows the store's change feed from now on and keeps a balance per account: a read model (step 6).`);

  step('1. Commands become events');
  const account = accounts.create(ada);
  account.open('Ada Lovelace');
  account.deposit(100_00);
  account.withdraw(30_00);
  print(`   Opened an account for Ada, deposited ${formatMoney(100_00)}, withdrew ${formatMoney(30_00)}: ${account.uncommittedEvents.length} new events, not yet stored.`);
  const saved = await accounts.save(account, { metadata: { correlationId: `demo-${suffix}` } });
  print(`   Saved them as one atomic commit: stream account/${ada} is now at version ${saved?.version}.`);

  step('2. A command that breaks a rule is refused, and nothing is stored');
  try {
    account.withdraw(500_00);
  } catch (error) {
    if (!(error instanceof DomainRuleError)) throw error;
    print(`   Refused: ${error.message}. The stream stays at version ${await store.streamVersion(`account/${ada}`)}.`);
  }

  step('3. State is rebuilt by replaying the events');
  const reloaded = await accounts.load(ada);
  for await (const event of store.readStream(`account/${ada}`)) print(`   replay ${describeEvent(event)}`);
  print(`   Rehydrated: ${reloaded.owner}'s balance is ${formatMoney(reloaded.balance)} at version ${reloaded.version}.`);

  step('4. Two tellers change the same account at once: optimistic concurrency');
  const tellerA = await accounts.load(ada);
  const tellerB = await accounts.load(ada);
  print(`   Teller A and teller B both loaded the account at version ${tellerA.version}.`);
  tellerA.deposit(50_00);
  await accounts.save(tellerA);
  print(`   Teller A deposited ${formatMoney(50_00)} and saved first: version ${tellerA.version}.`);
  tellerB.withdraw(20_00);
  try {
    await accounts.save(tellerB);
  } catch (error) {
    if (!isConcurrencyError(error)) throw error;
    print(`   Teller B's save was refused: ${error.message.replace('[keyvent] ', '')}.`);
    print(`   Nothing of teller B's change was written; B reloads (seeing A's deposit) and runs the command again:`);
    const retried = await accounts.update(ada, (fresh) => fresh.withdraw(20_00));
    print(`   Teller B withdrew ${formatMoney(20_00)}: version ${retried.version}, balance ${formatMoney(retried.balance)}.`);
  }

  step('5. A second account, and the list of streams');
  const second = accounts.create(alan);
  second.open('Alan Turing');
  second.deposit(42_00);
  await accounts.save(second);
  const streams = await store.listStreams({ prefix: 'account/' });
  print(`   The store holds ${streams.length} account stream(s)${streams.length > 2 ? ' (earlier runs included)' : ''}:`);
  for (const key of streams) print(`   - ${key} (version ${await store.streamVersion(key)})`);

  step('6. A read model kept by a consumer of the change feed');
  const keys = [`account/${ada}`, `account/${alan}`];
  const caughtUp = (versions: number[]) => () => keys.every((key, i) => (balances.rows.get(key)?.lastSequence ?? 0) >= versions[i]!);
  await waitUntil(caughtUp([5, 2]), 'the read model to catch up');
  print(`   While steps 1 to 5 ran, consumer ${consumerName} was handed ${delivered.length} events from the change feed. The balances it computed:`);
  for (const key of keys) {
    const row = balances.rows.get(key)!;
    print(`   - ${row.owner}: ${formatMoney(row.balance)} (${key}, events 1 to ${row.lastSequence})`);
  }
  await consumer.stop();
  const checkpoint = await driver.feed!.loadCheckpoint(`${consumerName}#0-1023`);
  const settled = stampOf((JSON.parse(checkpoint!.value) as { ps: string }).ps);
  print(`   Stopped it. Its checkpoint, in the same LevelDB database, says it handled the feed up to commit ${settled}.`);

  const adaNow = await accounts.update(ada, (fresh) => fresh.deposit(25_00));
  const alanNow = await accounts.update(alan, (fresh) => fresh.deposit(8_00));
  print(`   While it was stopped, Ada deposited ${formatMoney(25_00)} (version ${adaNow.version}) and Alan ${formatMoney(8_00)} (version ${alanNow.version}).`);

  const before = delivered.length;
  consumer = startConsumer();
  await waitUntil(caughtUp([adaNow.version, alanNow.version]), 'the read model to catch up again');
  const resumed = delivered.slice(before);
  print(`   Started again under the same name, it resumed from its checkpoint and was handed only the ${resumed.length} new events:`);
  for (const event of resumed) print(`   - ${describeEvent(event)}`);
  const repeated = balances.apply(resumed);
  print(`   The feed delivers at least once (after a crash, the last batch comes again), so the handler is idempotent:`);
  print(`   handed the same ${resumed.length} events again, it applied ${repeated} of them, as each row keeps the last sequence it applied.`);
  await consumer.stop();

  const aggregates = await Promise.all([accounts.load(ada), accounts.load(alan)]);
  const comparisons = aggregates.map((account, i) => `${account.owner} ${formatMoney(balances.rows.get(keys[i]!)!.balance)} = ${formatMoney(account.balance)}`);
  const agree = aggregates.every((account, i) => balances.rows.get(keys[i]!)!.balance === account.balance);
  print(`   Read model and aggregates ${agree ? 'agree' : 'DISAGREE'}: ${comparisons.join(', ')} (read model = aggregate).`);

  step('Done');
  const final = aggregates[0]!;
  print(`   Ada's balance: ${formatMoney(final.balance)} after ${final.version} events. Run the demo again to add to the same store;`);
  print(`   keyvent consumers -s level:${location} lists the read model's checkpoints.`);
}
