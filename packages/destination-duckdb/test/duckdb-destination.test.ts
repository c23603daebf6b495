import { join, resolve } from "node:path";
import {
  type CompleteColumnSchema,
  DestinationError,
  defineCapabilities,
  type TableSchema,
  TsdltError,
} from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import {
  classifyDuckDBError,
  DESTINATION_NAME,
  DUCKDB_CAPABILITIES,
  duckdb,
  duckdbColumnType,
  duckdbDatabasePath,
  jsonlInsertSql,
} from "../src/index.js";

const context = {
  pipelineName: "quick_start",
  datasetName: "mydata",
  workingDir: "/home/u/.dlt/pipelines/quick_start",
  localDir: "/home/u/project",
};

describe("duckdb()", () => {
  it("should describe the destination without I/O", () => {
    const destination = duckdb();
    expect(DESTINATION_NAME).toBe("duckdb");
    expect(destination.name).toBe("duckdb");
    expect(destination.destinationType).toBe("dlt.destinations.duckdb");
    expect(destination.capabilities).toBe(DUCKDB_CAPABILITIES);
    expect(destination.displayLocation(context)).toBe("duckdb:////home/u/project/quick_start.duckdb");
  });

  it("should copy and freeze its options", () => {
    const options: { credentials?: string } = { credentials: "a.duckdb" };
    const destination = duckdb(options);
    options.credentials = "b.duckdb";
    expect(destination.options).toEqual({ credentials: "a.duckdb" });
    expect(Object.isFrozen(destination.options)).toBe(true);
    expect(Object.isFrozen(destination)).toBe(true);
  });

  it("should use the destination name for named destinations", () => {
    const destination = duckdb({ destinationName: "warehouse" });
    expect(destination.name).toBe("warehouse");
    expect(destination.displayLocation(context)).toBe("duckdb:////home/u/project/warehouse.duckdb");
  });

  it("should reject options of the wrong type", () => {
    expect(() => duckdb({ credentials: "" })).toThrow(TsdltError);
    expect(() => duckdb({ destinationName: 5 as unknown as string })).toThrow(
      /`destinationName` must be a non-empty string/,
    );
  });

  it.each([
    [{}, "/home/u/project/quick_start.duckdb"],
    [{ destinationName: "named" }, "/home/u/project/named.duckdb"],
    [{ credentials: "data/x.duckdb" }, "/home/u/project/data/x.duckdb"],
    [{ credentials: "/abs/x.duckdb", destinationName: "named" }, "/abs/x.duckdb"],
    [{ credentials: "duckdb:///rel.duckdb" }, "/home/u/project/rel.duckdb"],
    [{ credentials: "duckdb:////abs/y.duckdb" }, "/abs/y.duckdb"],
    [{ credentials: ":pipeline:" }, "/home/u/.dlt/pipelines/quick_start/quick_start.duckdb"],
    [{ credentials: ":memory:" }, ":memory:"],
  ])("should resolve %j to %s", (options, expected) => {
    expect(duckdbDatabasePath(options, context)).toBe(expected === ":memory:" ? expected : resolve(expected));
    expect(duckdb(options).displayLocation(context)).toBe(`duckdb:///${expected}`);
  });
});

describe("capabilities", () => {
  it("should follow dlt's DuckDB capabilities with jsonl loading", () => {
    expect(DUCKDB_CAPABILITIES).toEqual(
      defineCapabilities({
        preferredLoaderFileFormat: "jsonl",
        supportedLoaderFileFormats: ["jsonl", "csv"],
        // dlt's DuckDB takes no staged files; tsdlt's reads them from a local filesystem staging
        preferredStagingFileFormat: "parquet",
        supportedStagingFileFormats: ["parquet", "jsonl", "csv"],
        hasCaseSensitiveIdentifiers: false,
        decimalPrecision: [38, 9],
        weiPrecision: [38, 0],
        maxTimestampPrecision: 9,
        alterAddMultiColumn: false,
        supportsTruncateCommand: false,
        supportedMergeStrategies: ["delete-insert", "upsert", "scd2", "insert-only"],
        // dlt lists only the first two; `staging-optimized` runs as `insert-from-staging` (dlt's fallback)
        supportedReplaceStrategies: ["truncate-and-insert", "insert-from-staging", "staging-optimized"],
      }),
    );
  });
});

describe("duckdbColumnType", () => {
  const table: TableSchema = { name: "t", columns: {} };
  const col = (c: Omit<CompleteColumnSchema, "name">): CompleteColumnSchema => ({ name: "c", ...c });

  it.each<[Omit<CompleteColumnSchema, "name">, string]>([
    [{ data_type: "text" }, "VARCHAR"],
    [{ data_type: "text", precision: 10 }, "VARCHAR"],
    [{ data_type: "double" }, "DOUBLE"],
    [{ data_type: "bool" }, "BOOLEAN"],
    [{ data_type: "date" }, "DATE"],
    [{ data_type: "time" }, "TIME"],
    [{ data_type: "binary" }, "BLOB"],
    [{ data_type: "json" }, "JSON"],
    [{ data_type: "timestamp" }, "TIMESTAMP WITH TIME ZONE"],
    [{ data_type: "timestamp", precision: 3 }, "TIMESTAMP WITH TIME ZONE"],
    [{ data_type: "timestamp", timezone: false }, "TIMESTAMP"],
    [{ data_type: "timestamp", timezone: false, precision: 0 }, "TIMESTAMP_S"],
    [{ data_type: "timestamp", timezone: false, precision: 3 }, "TIMESTAMP_MS"],
    [{ data_type: "timestamp", timezone: false, precision: 6 }, "TIMESTAMP"],
    [{ data_type: "timestamp", timezone: false, precision: 9 }, "TIMESTAMP_NS"],
    [{ data_type: "bigint" }, "BIGINT"],
    [{ data_type: "bigint", precision: 8 }, "TINYINT"],
    [{ data_type: "bigint", precision: 16 }, "SMALLINT"],
    [{ data_type: "bigint", precision: 32 }, "INTEGER"],
    [{ data_type: "bigint", precision: 64 }, "BIGINT"],
    [{ data_type: "bigint", precision: 128 }, "HUGEINT"],
    [{ data_type: "decimal" }, "DECIMAL(38,9)"],
    [{ data_type: "decimal", precision: 10, scale: 2 }, "DECIMAL(10,2)"],
    [{ data_type: "wei" }, "DECIMAL(38,0)"],
  ])("should map %j to %s", (column, expected) => {
    expect(duckdbColumnType(col(column), table)).toBe(expected);
  });

  it("should refuse precisions DuckDB cannot hold", () => {
    expect(() => duckdbColumnType(col({ data_type: "bigint", precision: 256 }), table)).toThrow(
      DestinationError,
    );
    expect(() =>
      duckdbColumnType(col({ data_type: "timestamp", timezone: false, precision: 12 }), table),
    ).toThrow(/Column `t.c` cannot be created: timestamp precision 12/);
  });
});

describe("jsonlInsertSql", () => {
  it("should read every column with an explicit type and convert in the SELECT", () => {
    const table: TableSchema = {
      name: "events",
      columns: {
        id: { name: "id", data_type: "bigint" },
        at: { name: "at", data_type: "timestamp" },
        local: { name: "local", data_type: "timestamp", timezone: false, precision: 3 },
        raw: { name: "raw", data_type: "binary" },
        doc: { name: "doc", data_type: "json" },
        "it's": { name: "it's", data_type: "decimal", precision: 10, scale: 2 },
        pending: { name: "pending" },
      },
    };
    expect(jsonlInsertSql("ds", table, join("/tmp", "events.abc.0.jsonl"), { compression: "gzip" })).toBe(
      'INSERT INTO "ds"."events" ("id", "at", "local", "raw", "doc", "it\'s")' +
        ' SELECT "id", CAST("at" AS TIMESTAMPTZ), CAST(CAST("local" AS TIMESTAMPTZ) AS TIMESTAMP_MS), from_base64("raw"), "doc", CAST("it\'s" AS DECIMAL(10,2))' +
        " FROM read_json(E'/tmp/events.abc.0.jsonl', format = 'newline_delimited', compression = 'gzip'," +
        " columns = {E'id': 'BIGINT', E'at': 'VARCHAR', E'local': 'VARCHAR', E'raw': 'VARCHAR', E'doc': 'JSON', E'it''s': 'VARCHAR'})",
    );
  });
});

describe("classifyDuckDBError", () => {
  it.each<[string, string, boolean]>([
    [
      'IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held in /usr/bin/node (PID 1)',
      "lock_conflict",
      true,
    ],
    [
      'TransactionContext Error: Catalog write-write conflict on create with "main.x"',
      "transaction_conflict",
      true,
    ],
    ["TransactionContext Error: Failed to commit: could not write", "internal", false],
    ["INTERRUPT Error: Interrupted!", "interrupted", true],
    ["Out of Memory Error: failed to allocate data of size 1.0 GiB", "out_of_memory", true],
    ["HTTP Error: Unable to connect", "network", true],
    ['IO Error: No files found that match the pattern "/x.jsonl"', "io", false],
    ['Parser Error: syntax error at or near "SELEC"', "syntax", false],
    ["Conversion Error: Could not convert string 'abc' to INT64", "conversion", false],
    ["Out of Range Error: Overflow in multiplication", "conversion", false],
    ['Invalid Input Error: Malformed JSON in file "/x.jsonl"', "invalid_input", false],
    ["Constraint Error: NOT NULL constraint failed: t.id", "constraint", false],
    ["Catalog Error: Table with name nope does not exist!", "catalog", false],
    ['Binder Error: Referenced column "x" not found', "binder", false],
    ["Not implemented Error: Adding columns with constraints not yet supported", "not_implemented", false],
    ["Permission Error: cannot write", "permission", false],
    ["Connection Error: Connection was never established or has been closed already", "connection", false],
    ["FATAL Error: database has been invalidated", "internal", false],
    ["INTERNAL Error: assertion failed", "internal", false],
    ["something odd", "unknown", false],
  ])("should classify %j as %s (retryable %s)", (message, reason, retryable) => {
    const verdict = classifyDuckDBError(new Error(message));
    expect(verdict.reason).toBe(reason);
    expect(verdict.retryable).toBe(retryable);
  });

  it("should keep the first paragraph of the message and the exception type", () => {
    expect(
      classifyDuckDBError(
        new Error("Catalog Error: Table x does not exist!\nDid you mean y?\n\nLINE 1: SELECT"),
      ),
    ).toEqual({
      retryable: false,
      reason: "catalog",
      errorType: "Catalog",
      message: "Catalog Error: Table x does not exist! Did you mean y?",
    });
  });

  it("should classify Node file-system errors by code", () => {
    const busy = Object.assign(new Error("EBUSY: resource busy"), { code: "EBUSY" });
    const missing = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
    expect(classifyDuckDBError(busy)).toMatchObject({ retryable: true, errorType: "EBUSY" });
    expect(classifyDuckDBError(missing)).toMatchObject({ retryable: false, reason: "io" });
  });

  it("should keep the retryability of tsdlt errors and accept non-errors", () => {
    expect(classifyDuckDBError(new DestinationError("x", { retryable: true })).retryable).toBe(true);
    expect(classifyDuckDBError("plain string")).toMatchObject({ retryable: false, reason: "unknown" });
  });
});
