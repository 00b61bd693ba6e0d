import { redactSecrets } from './secrets.js';
import type { ExpectedVersion } from './types.js';

/** The string codes of every keyvent error; guards match on these, so two installed copies agree. */
export const ErrorCode = {
  concurrency: 'KEYVENT_CONCURRENCY',
  validation: 'KEYVENT_VALIDATION',
  unknownEventType: 'KEYVENT_UNKNOWN_EVENT_TYPE',
  notSupported: 'KEYVENT_NOT_SUPPORTED',
  driver: 'KEYVENT_DRIVER',
  closed: 'KEYVENT_CLOSED',
  aggregateNotFound: 'KEYVENT_AGGREGATE_NOT_FOUND',
  uncommittedChanges: 'KEYVENT_UNCOMMITTED_CHANGES',
  consumerLease: 'KEYVENT_CONSUMER_LEASE',
  layout: 'KEYVENT_LAYOUT',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of every error keyvent throws. `code` is stable; match on it (or use the `is…` guards). */
export class KeyventError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    // Messages quote backend errors and keys; a connection string's secret must never ride along.
    super(`[keyvent] ${redactSecrets(message)}`, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The stream was not at the expected version: another writer got there first, or the caller's
 * version is past the head. Nothing of the refused commit was written.
 */
export class ConcurrencyError extends KeyventError {
  readonly key: string;
  readonly expectedVersion: ExpectedVersion;
  /** The stream's last sequence when the conflict was seen, where known. */
  readonly actualVersion: number | undefined;
  /**
   * For drivers: the ids stored at the refused commit's sequences, in order, where the backend returned
   * them with the refusal (an empty array when none of the sequences exists). The core then settles
   * whether the refused commit was its own resend without reading them back.
   */
  readonly storedIds: readonly string[] | undefined;

  constructor(
    key: string,
    expectedVersion: ExpectedVersion,
    actualVersion?: number,
    options?: { cause?: unknown; driver?: string; storedIds?: readonly string[] },
  ) {
    const where = options?.driver ? `[${options.driver}] ` : '';
    const actual = actualVersion === undefined ? '' : `, actual version ${actualVersion}`;
    super(
      ErrorCode.concurrency,
      `${where}stream ${JSON.stringify(key)}: expected version ${String(expectedVersion)}${actual}; ` +
        'reload the stream and retry the command',
      options,
    );
    this.key = key;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
    this.storedIds = options?.storedIds;
  }
}

/** Input refused before anything was written. `path` names the offending field, e.g. `events[2].data.price`. */
export class ValidationError extends KeyventError {
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.validation, `${path}: ${reason}`, options);
    this.path = path;
  }
}

/** A stored event whose type the event registry does not know (nor can upcast). */
export class UnknownEventTypeError extends KeyventError {
  constructor(
    readonly key: string,
    readonly sequence: number,
    readonly type: string,
  ) {
    super(
      ErrorCode.unknownEventType,
      `stream ${JSON.stringify(key)} sequence ${sequence}: unknown event type ${JSON.stringify(type)}; ` +
        'register it (or an upcaster from it) in the event registry',
    );
  }
}

/** The driver lacks an optional capability that the call needs. */
export class NotSupportedError extends KeyventError {
  constructor(
    readonly driver: string,
    readonly capability: string,
  ) {
    super(ErrorCode.notSupported, `[${driver}] the driver does not support ${capability}`);
  }
}

/**
 * The backend failed. `retryable` says whether the same call may succeed if tried again; `inDoubt`, that
 * the request was sent and its reply lost (a client-side timeout, a connection closed after sending), so
 * it may still be running on the backend and land after this error.
 */
export class DriverError extends KeyventError {
  readonly driver: string;
  readonly retryable: boolean;
  readonly inDoubt: boolean;

  constructor(driver: string, message: string, options: { cause?: unknown; retryable?: boolean; inDoubt?: boolean } = {}) {
    super(ErrorCode.driver, `[${driver}] ${message}`, { cause: options.cause });
    this.driver = driver;
    this.retryable = options.retryable ?? false;
    this.inDoubt = options.inDoubt ?? false;
  }
}

/** The store (or driver) was closed; open a new one. */
export class StoreClosedError extends KeyventError {
  constructor(driver: string) {
    super(ErrorCode.closed, `[${driver}] the store is closed`);
  }
}

/** `repository.load` found no events for the aggregate. */
export class AggregateNotFoundError extends KeyventError {
  constructor(
    readonly id: string,
    readonly key: string,
  ) {
    super(ErrorCode.aggregateNotFound, `aggregate ${JSON.stringify(id)} not found (stream ${JSON.stringify(key)} is empty)`);
  }
}

/** An aggregate with unsaved events cannot be refreshed from the store; save or discard them first. */
export class UncommittedChangesError extends KeyventError {
  constructor(readonly id: string, count: number) {
    super(
      ErrorCode.uncommittedChanges,
      `aggregate ${JSON.stringify(id)} has ${count} uncommitted event(s); save or discard them before refreshing`,
    );
  }
}

/** A consumer's slice range is held by another worker of its name, or overlaps another range of it; the consumer stops. */
export class ConsumerLeaseError extends KeyventError {
  constructor(readonly consumer: string, reason: string) {
    super(ErrorCode.consumerLease, `consumer ${JSON.stringify(consumer)}: ${reason}`);
  }
}

/**
 * The store was written in another storage layout than this driver's (or in none it knows): nothing was
 * written. Copy it into a store made by this version (`keyvent copy`), or use the version that made it.
 */
export class StoreLayoutError extends KeyventError {
  constructor(
    readonly driver: string,
    readonly found: string | undefined,
    readonly expected: string,
    where: string,
  ) {
    const what = found === undefined ? 'has no layout version' : `has layout version ${JSON.stringify(found)}`;
    super(ErrorCode.layout, `[${driver}] ${where} ${what}; this driver reads and writes layout ${JSON.stringify(expected)}. ` +
      'Copy the store into one made by this version (keyvent copy), or use the version that made it');
  }
}

function hasCode(error: unknown, code: ErrorCode): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** True for any keyvent error (matched by code, so it works across copies of the package). */
export function isKeyventError(error: unknown): error is KeyventError {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return Object.values(ErrorCode).includes(code as ErrorCode);
}

export const isConcurrencyError = (e: unknown): e is ConcurrencyError => hasCode(e, ErrorCode.concurrency);
export const isValidationError = (e: unknown): e is ValidationError => hasCode(e, ErrorCode.validation);
export const isUnknownEventTypeError = (e: unknown): e is UnknownEventTypeError =>
  hasCode(e, ErrorCode.unknownEventType);
export const isNotSupportedError = (e: unknown): e is NotSupportedError => hasCode(e, ErrorCode.notSupported);
export const isDriverError = (e: unknown): e is DriverError => hasCode(e, ErrorCode.driver);
export const isConsumerLeaseError = (e: unknown): e is ConsumerLeaseError => hasCode(e, ErrorCode.consumerLease);
export const isStoreLayoutError = (e: unknown): e is StoreLayoutError => hasCode(e, ErrorCode.layout);
export const isStoreClosedError = (e: unknown): e is StoreClosedError => hasCode(e, ErrorCode.closed);
