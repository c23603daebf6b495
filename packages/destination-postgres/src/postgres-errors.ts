/**
 * Classification of Postgres failures into retryable and terminal ones (STYLE rule 13), by SQLSTATE
 * (`error.code` of a `pg` `DatabaseError`), by Node's socket error codes for failures below the
 * protocol, and by `pg`'s own messages for connections it ends itself. Also: the messages of
 * connection failures, which name host, port, database and user — never the password.
 */

import { DestinationError, isTsdltError, redactText } from "@tsdlt/core";
import { redactParams, type SqlErrorContext } from "@tsdlt/sql";

/** Why a Postgres operation failed. */
export const POSTGRES_ERROR_REASONS = [
  "connection",
  "server_unavailable",
  "insufficient_resources",
  "transaction_conflict",
  "lock_conflict",
  "cancelled",
  "authentication",
  "unknown_database",
  "unknown_host",
  "syntax",
  "permission",
  "catalog",
  "data",
  "constraint",
  "transaction_state",
  "not_implemented",
  "io",
  "internal",
  "unknown",
] as const;
/** A {@link POSTGRES_ERROR_REASONS} member. */
export type PostgresErrorReason = (typeof POSTGRES_ERROR_REASONS)[number];

/** The verdict of {@link classifyPostgresError}. */
export interface PostgresErrorClassification {
  /** Whether running the same operation again may succeed. */
  readonly retryable: boolean;
  readonly reason: PostgresErrorReason;
  /** The SQLSTATE (`28P01`) or Node error code (`ECONNREFUSED`), when the failure carries one. */
  readonly code: string | undefined;
  /** The native message, on one line, without a trailing period. */
  readonly message: string;
}

const RETRYABLE: ReadonlySet<PostgresErrorReason> = new Set([
  "connection",
  "server_unavailable",
  "insufficient_resources",
  "transaction_conflict",
  "lock_conflict",
  "cancelled",
]);

/** SQLSTATEs whose reason differs from their class's. */
const BY_SQLSTATE: Readonly<Record<string, PostgresErrorReason>> = {
  "40001": "transaction_conflict", // serialization_failure
  "40P01": "transaction_conflict", // deadlock_detected
  "55P03": "lock_conflict", // lock_not_available
  "55006": "lock_conflict", // object_in_use
  "57014": "cancelled", // query_canceled (cancel request, statement_timeout)
  "57P01": "server_unavailable", // admin_shutdown
  "57P02": "server_unavailable", // crash_shutdown
  "57P03": "server_unavailable", // cannot_connect_now (starting up, recovery)
  "57P04": "unknown_database", // database_dropped: never comes back by itself
  "57P05": "connection", // idle_session_timeout
  "3D000": "unknown_database", // invalid_catalog_name
  "3F000": "catalog", // invalid_schema_name
  "2BP01": "catalog", // dependent_objects_still_exist
  "42501": "permission", // insufficient_privilege
  "42601": "syntax", // syntax_error
  "42P01": "catalog", // undefined_table
  "42703": "catalog", // undefined_column
  "42P06": "catalog", // duplicate_schema
  "42P07": "catalog", // duplicate_table
  "42701": "catalog", // duplicate_column
  "58030": "io", // io_error
  "58P01": "io", // undefined_file
};

/** SQLSTATE class (first two characters) → reason. */
const BY_CLASS: Readonly<Record<string, PostgresErrorReason>> = {
  "08": "connection",
  "53": "insufficient_resources",
  "57": "server_unavailable",
  "28": "authentication",
  "3D": "unknown_database",
  "42": "syntax",
  "22": "data",
  "23": "constraint",
  "25": "transaction_state",
  "40": "transaction_state",
  "0A": "not_implemented",
  "55": "transaction_state",
  "58": "io",
  XX: "internal",
  F0: "internal",
  P0: "internal",
};

/** Node error codes of sockets and DNS → reason. */
const BY_NODE_CODE: Readonly<Record<string, PostgresErrorReason>> = {
  ECONNREFUSED: "connection",
  ECONNRESET: "connection",
  ECONNABORTED: "connection",
  ETIMEDOUT: "connection",
  EPIPE: "connection",
  EHOSTUNREACH: "connection",
  EHOSTDOWN: "connection",
  ENETUNREACH: "connection",
  ENETDOWN: "connection",
  EAI_AGAIN: "connection",
  ENOTFOUND: "unknown_host",
};

/** Messages of connections `pg` ends itself (no code): terminated sockets and connect timeouts. */
const CONNECTION_MESSAGE =
  /^(Connection terminated|timeout expired|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated due to connection timeout)/i;

const SQLSTATE = /^[0-9A-DF-Z][0-9A-Z]{4}$/;

/**
 * Classifies a failure raised by `pg` (or around it) by SQLSTATE: connection exceptions (`08xxx`),
 * server shutdowns and start-ups (`57P01`–`57P03`), cancelled statements (`57014`), insufficient
 * resources (`53xxx`), serialization failures and deadlocks (`40001`, `40P01`) and lock timeouts
 * (`55P03`) are retryable, as are refused, reset and timed-out sockets; authentication (`28xxx`), an
 * unknown database (`3D000`, `57P04`), syntax and access rule violations (`42xxx`), data exceptions
 * (`22xxx`), constraint violations (`23xxx`), failed transactions (`25xxx`), internal errors, an
 * unknown host and anything unrecognised are terminal. A tsdlt error keeps its own `retryable`.
 *
 * @example
 * ```ts
 * classifyPostgresError(Object.assign(new Error("deadlock detected"), { code: "40P01" }));
 * // → { retryable: true, reason: "transaction_conflict", code: "40P01", message: "deadlock detected" }
 * ```
 */
export function classifyPostgresError(cause: unknown): PostgresErrorClassification {
  const message = oneLine(cause instanceof Error ? cause.message : String(cause));
  if (isTsdltError(cause)) {
    return { retryable: cause.retryable, reason: "unknown", code: undefined, message };
  }
  const raw = (cause as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" ? raw : undefined;
  let reason: PostgresErrorReason = "unknown";
  // Node's codes first: `EPIPE` would also pass for a SQLSTATE (no SQLSTATE class starts with `E`)
  if (code !== undefined && /^E[A-Z_]+$/.test(code)) {
    reason = BY_NODE_CODE[code] ?? "io";
  } else if (code !== undefined && SQLSTATE.test(code)) {
    reason = BY_SQLSTATE[code] ?? BY_CLASS[code.slice(0, 2)] ?? "unknown";
  } else if (CONNECTION_MESSAGE.test(message)) {
    reason = "connection";
  }
  return { retryable: RETRYABLE.has(reason), reason, code, message };
}

function oneLine(message: string): string {
  return message
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.!]+$/, "");
}

/** Context of {@link toDestinationError}. */
export type PostgresErrorContext = SqlErrorContext;

function describe(verdict: PostgresErrorClassification, cause: unknown): string {
  const pg = cause as { detail?: unknown; hint?: unknown; where?: unknown } | null;
  const extra: string[] = [];
  if (typeof pg?.detail === "string" && pg.detail !== "") extra.push(oneLine(pg.detail));
  if (typeof pg?.where === "string" && pg.where !== "") extra.push(oneLine(pg.where));
  const code = verdict.code !== undefined && SQLSTATE.test(verdict.code) ? ` (SQLSTATE ${verdict.code})` : "";
  return `${verdict.message}${code}${extra.length > 0 ? `; ${extra.join("; ")}` : ""}`;
}

/**
 * Wraps a native failure in a {@link DestinationError} whose `retryable` comes from
 * {@link classifyPostgresError}; message format:
 * `[tsdlt] [postgres] <subject> failed terminally: <reason> (SQLSTATE <code>). <consequence>`.
 */
export function toDestinationError(cause: unknown, context: PostgresErrorContext): DestinationError {
  if (cause instanceof DestinationError) return cause;
  const verdict = classifyPostgresError(cause);
  const how = verdict.retryable ? "failed transiently" : "failed terminally";
  const next = verdict.retryable ? context.consequence?.retryable : context.consequence?.terminal;
  const reason = redactParams(describe(verdict, cause), context.params);
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

/** Where a client connects: what connection failure messages name (never the password). */
export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  /** Seconds; 0 = no timeout. */
  readonly connectTimeout: number;
}

const CONNECT_HINTS: Partial<Record<PostgresErrorReason, string>> = {
  authentication:
    "Check `username` and `password` of the credentials (`DESTINATION__POSTGRES__CREDENTIALS` or `[destination.postgres.credentials]` in secrets.toml) and the server's pg_hba.conf.",
  unknown_database: "Create the database, or fix `database` in the credentials.",
  unknown_host: "Check `host` in the credentials.",
  server_unavailable: "The server is starting up or shutting down; run again when it accepts connections.",
  insufficient_resources:
    "The server refuses more connections; run again later or raise its `max_connections`.",
};

/**
 * The error of a connection that could not be opened: names host, port, database and user (never the
 * password), the native reason, and what to check. Retryable when the server may come back (refused,
 * timed out, starting up); terminal for authentication failures, an unknown database or host.
 * `timedOut` says the attempt took `connect_timeout` (`pg` then reports only a terminated connection).
 */
export function connectionError(
  cause: unknown,
  endpoint: PostgresEndpoint,
  destination: string,
  options: { readonly timedOut?: boolean } = {},
): DestinationError {
  if (cause instanceof DestinationError) return cause;
  const verdict = classifyPostgresError(cause);
  const timedOut =
    options.timedOut === true || /timeout/i.test(verdict.message) || verdict.code === "ETIMEDOUT";
  const hint =
    CONNECT_HINTS[verdict.reason] ??
    (timedOut
      ? `No answer within \`connect_timeout\` (${endpoint.connectTimeout} s). Check that the server runs and is reachable, or raise \`connect_timeout\` in the credentials.`
      : "Check that the server runs and accepts TCP connections at this host and port.");
  const where = `host \`${endpoint.host}\`, port ${endpoint.port}, database \`${endpoint.database}\` as user \`${endpoint.username}\``;
  const reason = redactText(describe(verdict, cause));
  return new DestinationError(
    `[tsdlt] [${destination}] Could not connect to Postgres at ${where}: ${reason}. ${hint}`,
    {
      code: verdict.retryable ? "DESTINATION_TRANSIENT" : "DESTINATION_TERMINAL",
      retryable: verdict.retryable,
      cause,
      destination,
    },
  );
}
