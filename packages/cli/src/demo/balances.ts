import type { StoredEvent } from '@keyvent/core';
import type { AccountEvent } from './bank-account.js';

/** One account in the balances read model. */
export interface BalanceRow {
  key: string;
  owner: string | undefined;
  balance: number;
  /** The last sequence of the account's stream applied here: what makes {@link Balances.apply} idempotent. */
  lastSequence: number;
}

/**
 * A read model: the balance of every account, kept by a consumer of the change feed. The feed delivers
 * each event at least once (after a crash, the last batch comes again), so `apply` is idempotent: each
 * row keeps the last sequence it applied, and an event at or below it changes nothing. A real app keeps
 * the rows in its own database, the row and its last sequence written together.
 */
export class Balances {
  readonly rows = new Map<string, BalanceRow>();

  /** Applies a batch from the feed; returns how many of its events changed the model (repeats and other streams do not). */
  apply(events: readonly StoredEvent[]): number {
    let applied = 0;
    for (const event of events) {
      if (!event.key.startsWith('account/')) continue;
      const row = this.rows.get(event.key) ?? { key: event.key, owner: undefined, balance: 0, lastSequence: 0 };
      if (event.sequence <= row.lastSequence) continue;
      const { type, data } = event as unknown as AccountEvent;
      if (type === 'AccountOpened') row.owner = data.owner;
      else if (type === 'MoneyDeposited') row.balance += data.amount;
      else if (type === 'MoneyWithdrawn') row.balance -= data.amount;
      row.lastSequence = event.sequence;
      this.rows.set(event.key, row);
      applied++;
    }
    return applied;
  }
}
