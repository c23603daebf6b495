import { DestinationError, registerSecret, type TableSchema } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { loadJobContext, redactParams } from "../src/index.js";

const table = { name: "users", columns: {} } as unknown as TableSchema;
const job = {
  path: "/tmp/pkg/new_jobs/users.abc123.0.jsonl",
  fileName: "users.abc123.0.jsonl",
  parsed: { tableName: "users", fileId: "abc123", retryCount: 0, fileFormat: "jsonl", compressed: false },
} as const;

describe("loadJobContext", () => {
  it("should name the job, the load and the staging copy, and build its terminal error", () => {
    const { jobId, context, terminal } = loadJobContext("duckdb", table, job as never, "1700.5", true);
    expect(jobId).toBe("users.abc123.jsonl");
    expect(context.subject).toBe("Job `users.abc123.0.jsonl` (staging) in load `1700.5`");
    expect(context.consequence?.terminal).toContain("schema of table `users`");
    const error = terminal("bad row");
    expect(error).toBeInstanceOf(DestinationError);
    expect(error.message).toBe(
      "[tsdlt] [duckdb] Job `users.abc123.0.jsonl` (staging) in load `1700.5` failed terminally: bad row.",
    );
    expect(error).toMatchObject({ retryable: false, loadId: "1700.5", jobId, table: "users" });
  });
});

describe("redactParams", () => {
  it("should mask bound string parameters, passwords in URLs and registered secrets", () => {
    registerSecret("s3cr3t-token-for-redaction");
    const message = redactParams(
      "bad value 'alice@example.com' near postgresql://u:pw@h/db, token s3cr3t-token-for-redaction",
      ["alice@example.com", "ab"],
    );
    expect(message).not.toContain("alice@example.com");
    expect(message).not.toContain(":pw@");
    expect(message).not.toContain("s3cr3t-token-for-redaction");
    expect(message).toContain("<redacted>");
  });
});
