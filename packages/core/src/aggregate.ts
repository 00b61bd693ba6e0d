import type { DomainEvent } from './registry.js';

/**
 * Base class of an event-sourced aggregate: commands call `raise`, state changes only in `apply`.
 *
 * @example
 * ```ts
 * type CounterEvent = { type: 'Incremented'; data: { by: number } };
 * class Counter extends Aggregate<CounterEvent> {
 *   total = 0;
 *   increment(by: number) { if (by <= 0) throw new Error('by must be positive'); this.raise({ type: 'Incremented', data: { by } }); }
 *   protected apply(event: CounterEvent) { this.total += event.data.by; }
 * }
 * ```
 */
export abstract class Aggregate<E extends DomainEvent> {
  #version = 0;
  #pending: E[] = [];

  constructor(readonly id: string) {}

  /** The version of the stream this aggregate reflects, not counting uncommitted events. */
  get version(): number {
    return this.#version;
  }

  /** Events raised since the aggregate was loaded or last saved. */
  get uncommittedEvents(): readonly E[] {
    return this.#pending;
  }

  /** Changes state for one event. Called for new events and on replay; must not fail for stored ones. */
  protected abstract apply(event: E): void;

  /** Records a new event and applies it. */
  protected raise(event: E): void {
    this.apply(event);
    this.#pending.push(event);
  }

  /** Applies an event read from the stream at `sequence`. For repositories. */
  replayEvent(event: E, sequence: number): void {
    this.apply(event);
    this.#version = sequence;
  }

  /** Clears the uncommitted events after they were stored up to `version`. For repositories. */
  markCommitted(version: number): void {
    this.#pending = [];
    this.#version = version;
  }
}
