import { Aggregate, createEventRegistry } from '@keyvent/core';

/** The events of a bank account: what happened, in the past tense. */
export type AccountEvent =
  | { type: 'AccountOpened'; data: { owner: string } }
  | { type: 'MoneyDeposited'; data: { amount: number } }
  | { type: 'MoneyWithdrawn'; data: { amount: number } };

const isAmount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0;

/** A tiny Standard Schema, so the demo needs no schema library; real apps would use zod or valibot. */
const amountSchema = {
  '~standard': {
    version: 1 as const,
    vendor: 'keyvent-demo',
    validate: (data: unknown) =>
      isAmount((data as { amount?: unknown })?.amount)
        ? { value: data as { amount: number } }
        : { issues: [{ message: 'amount must be a positive whole number of cents' }] },
  },
};

export const accountEvents = createEventRegistry<AccountEvent>({
  AccountOpened: {},
  MoneyDeposited: { schema: amountSchema },
  MoneyWithdrawn: { schema: amountSchema },
});

/** A rule of the domain was broken: the command is refused and no event is raised. */
export class DomainRuleError extends Error {}

/** A bank account: commands check the rules and raise events; `apply` is the only place state changes. */
export class BankAccount extends Aggregate<AccountEvent> {
  owner: string | undefined;
  balance = 0;

  open(owner: string): void {
    if (this.owner !== undefined) throw new DomainRuleError(`account ${this.id} is already open`);
    this.raise({ type: 'AccountOpened', data: { owner } });
  }

  deposit(amount: number): void {
    this.mustBeOpen();
    this.raise({ type: 'MoneyDeposited', data: { amount } });
  }

  withdraw(amount: number): void {
    this.mustBeOpen();
    if (amount > this.balance) {
      throw new DomainRuleError(`cannot withdraw ${formatMoney(amount)}: the balance is ${formatMoney(this.balance)}`);
    }
    this.raise({ type: 'MoneyWithdrawn', data: { amount } });
  }

  protected apply(event: AccountEvent): void {
    switch (event.type) {
      case 'AccountOpened':
        this.owner = event.data.owner;
        break;
      case 'MoneyDeposited':
        this.balance += event.data.amount;
        break;
      case 'MoneyWithdrawn':
        this.balance -= event.data.amount;
        break;
    }
  }

  private mustBeOpen(): void {
    if (this.owner === undefined) throw new DomainRuleError(`account ${this.id} is not open`);
  }
}

export function formatMoney(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}
