import { DriverError } from '@keyvent/core';

export const NAME = 'azure-tables';

/** Statuses worth another try: throttling (429 on Cosmos, 503 on Storage), timeouts, a busy or failing server. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

type RestFailure = {
  name?: string;
  message?: string;
  statusCode?: number;
  code?: string;
  details?: { errorCode?: string; odataError?: { code?: string; message?: { value?: string } } };
};

export const statusOf = (error: unknown): number | undefined => (error as RestFailure | undefined)?.statusCode;

/**
 * The service's error code (`TableNotFound`, `EntityAlreadyExists`, `ResourceNotFound`, …), or undefined
 * when no answer came back. The SDK puts a transaction's in `code`, and a single call's in
 * `details.errorCode` (the `x-ms-error-code` header) and `details.odataError.code`, leaving `code`
 * unset (so on @azure/data-tables 13.3.2 against Azurite 3.35.0).
 */
export function serviceCode(error: unknown): string | undefined {
  if (statusOf(error) === undefined) return undefined; // without an answer, `code` is a transport error's (ECONNRESET)
  const { code, details } = error as RestFailure;
  return code ?? details?.errorCode ?? details?.odataError?.code;
}

function reasonOf(error: unknown): string {
  const { message, details } = error as RestFailure;
  return (details?.odataError?.message?.value ?? message ?? String(error)).split('\n')[0]!;
}

/**
 * The service answered that it will not apply the request, and never will: a 4xx other than a timeout
 * (408) or throttling (429). A request that got no answer, or a 5xx, may still be applied.
 */
export function isRefusal(error: unknown): boolean {
  const status = statusOf(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** A read or commit of a table that does not exist: a mistake in setup, not an empty stream. `howToCreate` tells how to make it. */
export function tableMissing(
  tableName: string,
  cause: unknown,
  howToCreate = `createAzureTablesTable(connectionString, ${JSON.stringify(tableName)})`,
): DriverError {
  return new DriverError(NAME, `the table ${JSON.stringify(tableName)} does not exist (TableNotFound); create it first with ${howToCreate}`, {
    cause,
    retryable: false,
  });
}

/**
 * A failure of the SDK as a DriverError: retryable for throttling, timeouts and 5xx, and for a request
 * that got no answer (a reset connection: the core then settles a commit by its event ids).
 * Anything that is not the SDK's (a bug) is passed on for the core to wrap.
 */
export function translate(error: unknown, what: string, tableName: string, howToCreate?: string): unknown {
  const status = statusOf(error);
  const code = serviceCode(error);
  if (code === 'TableNotFound') return tableMissing(tableName, error, howToCreate);
  if (status === undefined) {
    if ((error as RestFailure | undefined)?.name !== 'RestError') return error;
    return new DriverError(NAME, `${what}: no answer (${(error as RestFailure).code ?? 'no code'}): ${reasonOf(error)}`, { cause: error, retryable: true });
  }
  return new DriverError(NAME, `${what} (HTTP ${status}${code ? ` ${code}` : ''}): ${reasonOf(error)}`, {
    cause: error,
    retryable: RETRYABLE_STATUS.has(status),
  });
}
