import { randomUUID } from 'node:crypto';
import { createRepository, createStore, isConcurrencyError, type EventStore, type StoredEvent } from '@keyvent/core';
import { createLevelDriver } from '@keyvent/level';
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

/**
 * The demo: a bank account as an event-sourced aggregate on the embedded LevelDB store. Every step
 * says what it does, so a newcomer can follow how commands become events and events become state.
 */
export async function runDemo({ location, print }: DemoOptions): Promise<void> {
  const store = createStore(createLevelDriver({ location }));
  try {
    await tellTheStory(store, print, location);
  } finally {
    await store.close();
  }
}

async function tellTheStory(store: EventStore, print: (line: string) => void, location: string): Promise<void> {
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

  step('Done');
  const final = await accounts.load(ada);
  print(`   Ada's balance: ${formatMoney(final.balance)} after ${final.version} events. Run the demo again to add to the same store.`);
}
