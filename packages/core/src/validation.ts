import type { DriverLimits } from './driver.js';
import { ValidationError } from './errors.js';
import type { ExpectedVersion, NewEvent } from './types.js';

const MAX_DEPTH = 256;
const MAX_TYPE_LENGTH = 256;
const MAX_ID_LENGTH = 256;

/** Refuses anything that would not survive JSON exactly (undefined, NaN, BigInt, cycles, class instances…). */
export function assertJson(value: unknown, path: string): void {
  checkJson(value, { root: path, steps: [] }, []);
}

/**
 * Where the value being checked sits: the path given, then the keys and indexes down to it, put into
 * words only for an error (most values pass, and would pay for a string per field).
 */
interface Trail {
  root: string;
  steps: (string | number)[];
}

const where = ({ root, steps }: Trail) => root + steps.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('');

/** `ancestors`: the containers from the root down to this value, to find cycles; their count is its depth. */
function checkJson(value: unknown, trail: Trail, ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new ValidationError(where(trail), 'string contains a lone surrogate');
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(where(trail), `${value} is not a JSON number`);
      if (Object.is(value, -0)) throw new ValidationError(where(trail), '-0 is not kept by JSON (it reads back as 0); use 0');
      return;
    case 'object':
      if (value === null) return;
      return checkContainer(value, trail, ancestors);
    default:
      throw new ValidationError(where(trail), `a ${typeof value} is not JSON-compatible`);
  }
}

function checkContainer(value: object, trail: Trail, ancestors: object[]): void {
  if (ancestors.length >= MAX_DEPTH) throw new ValidationError(where(trail), `nested deeper than ${MAX_DEPTH} levels`);
  if (ancestors.includes(value)) throw new ValidationError(where(trail), 'contains a cycle');
  ancestors.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      trail.steps.push(i);
      if (!(i in value)) throw new ValidationError(where(trail), 'is a hole in a sparse array');
      checkJson(value[i], trail, ancestors);
      trail.steps.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new ValidationError(where(trail), `a ${kind} instance is not JSON-compatible; use a plain object`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) throw new ValidationError(where(trail), 'has symbol keys');
    for (const name of Object.keys(value)) {
      if (!name.isWellFormed()) throw new ValidationError(where(trail), 'has a key with a lone surrogate');
      trail.steps.push(name);
      checkJson((value as Record<string, unknown>)[name], trail, ancestors);
      trail.steps.pop();
    }
  }
  ancestors.pop();
}

function assertBoundedString(value: unknown, path: string, max: number): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(path, 'must be a non-empty string');
  if (value.length > max) throw new ValidationError(path, `is longer than ${max} characters`);
  if (!value.isWellFormed()) throw new ValidationError(path, 'contains a lone surrogate');
}

/** The size an event counts against a driver's limits: UTF-8 bytes of the JSON of type, data and metadata. */
export function eventBytes(event: Pick<NewEvent, 'type' | 'data' | 'metadata'>): number {
  return Buffer.byteLength(JSON.stringify([event.type, event.data, event.metadata ?? null]), 'utf8');
}

/** Checks a commit against the JSON rules and the driver's limits; throws `ValidationError` naming the field. */
export function assertCommit(events: unknown, limits: DriverLimits = {}): asserts events is NewEvent[] {
  if (!Array.isArray(events)) throw new ValidationError('events', 'must be an array of events');
  if (events.length === 0) throw new ValidationError('events', 'must hold at least one event');
  const { maxEventsPerCommit, maxCommitBytes } = limits;
  if (maxEventsPerCommit !== undefined && events.length > maxEventsPerCommit) {
    throw new ValidationError('events', `${events.length} events exceed the driver's atomic limit of ${maxEventsPerCommit} per commit`);
  }
  const ids = new Set<string>();
  let total = 0;
  events.forEach((event: unknown, i) => {
    total += assertEvent(event, `events[${i}]`, limits);
    assertUniqueId(ids, event as NewEvent, `events[${i}]`);
  });
  if (maxCommitBytes !== undefined && total > maxCommitBytes) {
    throw new ValidationError('events', `the commit is ${total} bytes; the driver's limit is ${maxCommitBytes}`);
  }
}

/**
 * Checks one event: its fields, and the driver's limit per event. Returns its size in bytes where the
 * driver has byte limits, else 0: serialising is the costly part of a commit, done only where needed.
 */
export function assertEvent(event: unknown, path: string, limits: DriverLimits): number {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new ValidationError(path, 'must be an object with type and data');
  }
  const { type, data, id, metadata } = event as Record<string, unknown>;
  assertBoundedString(type, `${path}.type`, MAX_TYPE_LENGTH);
  if (data === undefined) throw new ValidationError(`${path}.data`, 'is missing (use null for no data)');
  assertJson(data, `${path}.data`);
  if (id !== undefined) assertBoundedString(id, `${path}.id`, MAX_ID_LENGTH);
  if (metadata !== undefined) assertMetadata(metadata, `${path}.metadata`);
  const { maxEventBytes, maxCommitBytes } = limits;
  if (maxEventBytes === undefined && maxCommitBytes === undefined) return 0;
  const size = eventBytes(event as NewEvent);
  if (maxEventBytes !== undefined && size > maxEventBytes) {
    throw new ValidationError(path, `is ${size} bytes; the driver's limit is ${maxEventBytes} per event`);
  }
  return size;
}

/** Adds the id of an event of a commit to `ids`, the commit's ids so far; refuses an id used twice. */
export function assertUniqueId(ids: Set<string>, event: Pick<NewEvent, 'id'>, path: string): void {
  if (event.id === undefined) return;
  if (ids.has(event.id)) throw new ValidationError(`${path}.id`, `${JSON.stringify(event.id)} is used twice in this commit`);
  ids.add(event.id);
}

function assertMetadata(metadata: unknown, path: string): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ValidationError(path, 'must be a plain object');
  }
  assertJson(metadata, path);
  for (const name of ['correlationId', 'causationId'] as const) {
    const value = (metadata as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== 'string') throw new ValidationError(`${path}.${name}`, 'must be a string');
  }
}

/** Refuses an expected version that is not a sentinel or a whole number from 0 to 2^53 - 1. */
export function assertExpectedVersion(value: unknown): asserts value is ExpectedVersion {
  if (value === 'any' || value === 'exists' || value === 'no_stream') return;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return;
  throw new ValidationError(
    'expectedVersion',
    `${typeof value === 'string' ? JSON.stringify(value) : String(value)} is not a version: use a whole number >= 0, 'no_stream', 'exists' or 'any'`,
  );
}

/** Refuses a sequence bound that is not a whole number from 1 to 2^53 - 1. */
export function assertSequence(value: unknown, path: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(path, `${String(value)} is not a sequence: use a whole number >= 1`);
  }
}
