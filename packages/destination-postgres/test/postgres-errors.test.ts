import { DestinationError, registerSecret } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { classifyPostgresError, connectionError, type PostgresEndpoint } from "../src/index.js";

/** A failure shaped like `pg`'s `DatabaseError` (a SQLSTATE in `code`) or a Node socket error. */
function native(code: string | undefined, message = "boom"): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe("classifyPostgresError", () => {
  it.each([
    // connection exceptions and server availability: retryable
    ["08000", "connection", true],
    ["08001", "connection", true],
    ["08006", "connection", true],
    ["08P01", "connection", true],
    ["57P01", "server_unavailable", true],
    ["57P02", "server_unavailable", true],
    ["57P03", "server_unavailable", true],
    ["57P05", "connection", true],
    ["57014", "cancelled", true],
    ["53000", "insufficient_resources", true],
    ["53100", "insufficient_resources", true],
    ["53200", "insufficient_resources", true],
    ["53300", "insufficient_resources", true],
    ["40001", "transaction_conflict", true],
    ["40P01", "transaction_conflict", true],
    ["55P03", "lock_conflict", true],
    // what retrying cannot fix: terminal
    ["57P04", "unknown_database", false],
    ["28000", "authentication", false],
    ["28P01", "authentication", false],
    ["3D000", "unknown_database", false],
    ["3F000", "catalog", false],
    ["42601", "syntax", false],
    ["42501", "permission", false],
    ["42P01", "catalog", false],
    ["42703", "catalog", false],
    ["42804", "syntax", false],
    ["22P02", "data", false],
    ["22003", "data", false],
    ["22021", "data", false],
    ["23505", "constraint", false],
    ["23502", "constraint", false],
    ["25P02", "transaction_state", false],
    ["40002", "transaction_state", false],
    ["0A000", "not_implemented", false],
    ["2BP01", "catalog", false],
    ["XX000", "internal", false],
    ["99999", "unknown", false],
  ] as const)("should classify SQLSTATE %s as %s (retryable: %s)", (code, reason, retryable) => {
    expect(classifyPostgresError(native(code))).toEqual({ retryable, reason, code, message: "boom" });
  });

  it.each([
    ["ECONNREFUSED", "connection", true],
    ["ECONNRESET", "connection", true],
    ["ETIMEDOUT", "connection", true],
    ["EPIPE", "connection", true],
    ["EHOSTUNREACH", "connection", true],
    ["EAI_AGAIN", "connection", true],
    ["ENOTFOUND", "unknown_host", false],
    ["ENOENT", "io", false],
  ] as const)("should classify Node error %s as %s (retryable: %s)", (code, reason, retryable) => {
    expect(classifyPostgresError(native(code))).toMatchObject({ retryable, reason, code });
  });

  it.each([
    "Connection terminated unexpectedly",
    "Connection terminated",
    "Connection terminated due to connection timeout",
    "timeout expired",
  ])("should classify pg's %j as a retryable connection failure", (message) => {
    expect(classifyPostgresError(new Error(message))).toMatchObject({
      retryable: true,
      reason: "connection",
    });
  });

  it("should keep the verdict of tsdlt errors and treat anything else as terminal", () => {
    const transient = new DestinationError("x", { code: "DESTINATION_TRANSIENT", retryable: true });
    expect(classifyPostgresError(transient).retryable).toBe(true);
    expect(classifyPostgresError("weird")).toEqual({
      retryable: false,
      reason: "unknown",
      code: undefined,
      message: "weird",
    });
  });
});

describe("connectionError", () => {
  const endpoint: PostgresEndpoint = {
    host: "db.internal",
    port: 5433,
    database: "dlt_data",
    username: "loader",
    connectTimeout: 15,
  };

  it("should name host, port, database and user, never the password, for a failed login", () => {
    registerSecret("Sup3r-S3cret");
    const cause = native("28P01", 'password authentication failed for user "loader"');
    const error = connectionError(cause, endpoint, "postgres");
    expect(error).toBeInstanceOf(DestinationError);
    expect(error.retryable).toBe(false);
    expect(error.code).toBe("DESTINATION_TERMINAL");
    expect(error.message).toBe(
      '[tsdlt] [postgres] Could not connect to Postgres at host `db.internal`, port 5433, database `dlt_data` as user `loader`: password authentication failed for user "loader" (SQLSTATE 28P01). Check `username` and `password` of the credentials (`DESTINATION__POSTGRES__CREDENTIALS` or `[destination.postgres.credentials]` in secrets.toml) and the server\'s pg_hba.conf.',
    );
    const leaky = connectionError(native("28P01", "bad password Sup3r-S3cret"), endpoint, "postgres");
    expect(leaky.message).not.toContain("Sup3r-S3cret");
  });

  it("should be retryable with a hint about the server for refused and timed-out connections", () => {
    const refused = connectionError(
      native("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:5433"),
      endpoint,
      "pg",
    );
    expect(refused.retryable).toBe(true);
    expect(refused.message).toMatch(
      /^\[tsdlt\] \[pg\] Could not connect to Postgres at host `db.internal`, port 5433/,
    );
    expect(refused.message).toContain("Check that the server runs and accepts TCP connections");
    const timeout = connectionError(
      new Error("Connection terminated due to connection timeout"),
      endpoint,
      "pg",
    );
    expect(timeout.retryable).toBe(true);
    expect(timeout.message).toContain("No answer within `connect_timeout` (15 s)");
  });

  it("should say how to fix an unknown database", () => {
    const error = connectionError(native("3D000", 'database "nope" does not exist'), endpoint, "postgres");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Create the database, or fix `database` in the credentials.");
  });
});
