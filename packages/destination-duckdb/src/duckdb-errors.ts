/**
 * Classification of DuckDB failures into retryable and terminal ones (STYLE rule 13). DuckDB reports
 * errors as plain `Error`s whose message starts with the exception type (`Conversion Error: ...`), so
 * the classifier reads that prefix, plus Node's `code` for file-system errors raised around DuckDB.
 */

import { DestinationError, isTsdltError } from "@tsdlt/core";
import { redactParams, type SqlErrorContext } from "@tsdlt/sql";

/** Why a DuckDB operation failed. */
export const DUCKDB_ERROR_REASONS = [
  "lock_conflict",
  "transaction_conflict",
  "interrupted",
  "out_of_memory",
  "network",
  "io",
  "syntax",
  "conversion",
  "invalid_input",
  "constraint",
  "catalog",
  "binder",
  "not_implemented",
  "permission",
  "connection",
  "internal",
  "unknown",
] as const;
/** A {@link DUCKDB_ERROR_REASONS} member. */
export type DuckDBErrorReason = (typeof DUCKDB_ERROR_REASONS)[number];

/** The verdict of {@link classifyDuckDBError}. */
export interface DuckDBErrorClassification {
  /** Whether running the same operation again may succeed. */
  readonly retryable: boolean;
  readonly reason: DuckDBErrorReason;
  /** DuckDB's exception type (`Conversion`, `IO`, `Catalog`, ...), when the message carries one. */
  readonly errorType: string | undefined;
  /** The native message, first paragraph only (DuckDB appends the failing SQL after a blank line). */
  readonly message: string;
}

const RETRYABLE: ReadonlySet<DuckDBErrorReason> = new Set([
  "lock_conflict",
  "transaction_conflict",
  "interrupted",
  "out_of_memory",
  "network",
]);

/** DuckDB exception type (lower-cased) → reason, for types that need no look at the message text. */
const BY_TYPE: Readonly<Record<string, DuckDBErrorReason>> = {
  interrupt: "interrupted",
  "out of memory": "out_of_memory",
  http: "network",
  parser: "syntax",
  syntax: "syntax",
  conversion: "conversion",
  "out of range": "conversion",
  decimal: "conversion",
  "mismatch type": "conversion",
  "divide by zero": "conversion",
  "invalid input": "invalid_input",
  "invalid type": "invalid_input",
  "invalid configuration": "invalid_input",
  invalid_configuration: "invalid_input",
  settings: "invalid_input",
  constraint: "constraint",
  catalog: "catalog",
  dependency: "catalog",
  "missing extension": "catalog",
  "auto-load": "catalog",
  binder: "binder",
  "parameter not resolved": "binder",
  "parameter not allowed": "binder",
  "not implemented": "not_implemented",
  permission: "permission",
  connection: "connection",
  internal: "internal",
  fatal: "internal",
};

/** Node `code`s of file-system errors that may clear up on their own. */
const TRANSIENT_NODE_CODES: ReadonlySet<string> = new Set([
  "EBUSY",
  "EAGAIN",
  "EMFILE",
  "ENFILE",
  "ETIMEDOUT",
]);

const TYPE_PREFIX = /^([A-Za-z_][A-Za-z_ -]*?) Error: /;

/**
 * Classifies a failure raised by DuckDB (or around it): lock conflicts, transaction conflicts,
 * interrupts, out-of-memory and HTTP errors are retryable; syntax, conversion, invalid input,
 * constraint, catalog/binder, permission and internal errors, other IO errors (missing file) and
 * anything unrecognised are terminal. A tsdlt error keeps its own `retryable`.
 *
 * @example
 * ```ts
 * classifyDuckDBError(new Error("Conversion Error: Could not convert string 'x' to INT64"));
 * // → { retryable: false, reason: "conversion", errorType: "Conversion", message: "Conversion Error: ..." }
 * ```
 */
export function classifyDuckDBError(cause: unknown): DuckDBErrorClassification {
  const message = firstParagraph(cause instanceof Error ? cause.message : String(cause));
  if (isTsdltError(cause)) {
    return { retryable: cause.retryable, reason: "unknown", errorType: undefined, message };
  }
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    const retryable = TRANSIENT_NODE_CODES.has(code);
    return { retryable, reason: retryable ? "lock_conflict" : "io", errorType: code, message };
  }
  const errorType = TYPE_PREFIX.exec(message)?.[1];
  const reason = reasonOf(errorType?.toLowerCase(), message);
  return { retryable: RETRYABLE.has(reason), reason, errorType, message };
}

function reasonOf(type: string | undefined, message: string): DuckDBErrorReason {
  if (type === undefined) return "unknown";
  if (type === "io") {
    return /could not set lock|conflicting lock|resource temporarily unavailable|device or resource busy/i.test(
      message,
    )
      ? "lock_conflict"
      : "io";
  }
  if (type === "transactioncontext" || type === "transaction") {
    return /conflict/i.test(message) ? "transaction_conflict" : "internal";
  }
  return BY_TYPE[type] ?? "unknown";
}

function firstParagraph(message: string): string {
  const head = message.split(/\n\s*\n/, 1)[0] ?? message;
  return head
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.!]+$/, "");
}

/** Context of {@link toDestinationError}. */
export type DuckDBErrorContext = SqlErrorContext;

/**
 * Wraps a native failure in a {@link DestinationError} whose `retryable` comes from
 * {@link classifyDuckDBError}; message format:
 * `[tsdlt] [duckdb] <subject> failed terminally: <reason>. <consequence>`.
 */
export function toDestinationError(cause: unknown, context: DuckDBErrorContext): DestinationError {
  if (cause instanceof DestinationError) return cause;
  const verdict = classifyDuckDBError(cause);
  const how = verdict.retryable ? "failed transiently" : "failed terminally";
  const next = verdict.retryable ? context.consequence?.retryable : context.consequence?.terminal;
  const reason = redactParams(verdict.message, context.params);
  return new DestinationError(
    `[tsdlt] [${context.destination}] ${context.subject} ${how}: ${reason}.${next ? ` ${next}` : ""}`,
    {
      code: verdict.retryable ? "DESTINATION_TRANSIENT" : "DESTINATION_TERMINAL",
      retryable: verdict.retryable,
      cause,
      destination: context.destination,
      loadId: context.loadId,
      jobId: context.jobId,
      table: context.table,
      path: context.path,
    },
  );
}
