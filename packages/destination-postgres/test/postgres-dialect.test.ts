import { type CompleteColumnSchema, Schema, type TableChain, type TableSchema } from "@tsdlt/core";
import {
  alterTableAddColumnsSql,
  createTableSql,
  replaceSql,
  schemaUpdateSql,
  tableChainFollowupSql,
} from "@tsdlt/sql";
import { describe, expect, it } from "vitest";
import {
  createPostgresDialect,
  DESTINATION_NAME,
  DESTINATION_TYPE,
  POSTGRES_CAPABILITIES,
  postgresColumnType,
  postgresDialect,
} from "../src/index.js";

const T: TableSchema = { name: "t", columns: {} };

function type(column: Omit<CompleteColumnSchema, "name">): string {
  return postgresColumnType({ name: "c", ...column } as CompleteColumnSchema, T);
}

describe("postgresColumnType", () => {
  it.each([
    [{ data_type: "text" }, "varchar"],
    [{ data_type: "text", precision: 20 }, "varchar(20)"],
    [{ data_type: "double" }, "double precision"],
    [{ data_type: "bool" }, "boolean"],
    [{ data_type: "date" }, "date"],
    [{ data_type: "time" }, "time without time zone"],
    [{ data_type: "time", precision: 3 }, "time (3) without time zone"],
    [{ data_type: "timestamp" }, "timestamp with time zone"],
    [{ data_type: "timestamp", precision: 3 }, "timestamp (3) with time zone"],
    [{ data_type: "timestamp", timezone: false }, "timestamp without time zone"],
    [{ data_type: "timestamp", timezone: false, precision: 0 }, "timestamp (0) without time zone"],
    [{ data_type: "bigint" }, "bigint"],
    [{ data_type: "bigint", precision: 8 }, "smallint"],
    [{ data_type: "bigint", precision: 16 }, "smallint"],
    [{ data_type: "bigint", precision: 32 }, "integer"],
    [{ data_type: "bigint", precision: 64 }, "bigint"],
    [{ data_type: "binary" }, "bytea"],
    [{ data_type: "json" }, "jsonb"],
    [{ data_type: "decimal" }, "numeric(38,9)"],
    [{ data_type: "decimal", precision: 10, scale: 2 }, "numeric(10,2)"],
    [{ data_type: "wei" }, "numeric(156,78)"],
  ] as const)("should map %j to %s (dlt's PostgresTypeMapper)", (column, expected) => {
    expect(type(column)).toBe(expected);
  });

  it("should reject what Postgres cannot store, naming the column", () => {
    expect(() => type({ data_type: "bigint", precision: 128 })).toThrow(
      /Column `t.c` cannot be created: bigint precision 128 exceeds/,
    );
    expect(() => type({ data_type: "timestamp", precision: 9 })).toThrow(/outside Postgres' range 0-6/);
  });
});

describe("POSTGRES_CAPABILITIES", () => {
  it("should follow dlt's Postgres capabilities, preferring csv job files and loading jsonl too", () => {
    expect(DESTINATION_NAME).toBe("postgres");
    expect(DESTINATION_TYPE).toBe("dlt.destinations.postgres");
    expect(POSTGRES_CAPABILITIES).toMatchObject({
      preferredLoaderFileFormat: "csv",
      supportedLoaderFileFormats: ["csv", "jsonl"],
      preferredStagingFileFormat: "jsonl",
      supportedStagingFileFormats: ["jsonl", "csv"],
      maxIdentifierLength: 63,
      maxColumnIdentifierLength: 63,
      hasCaseSensitiveIdentifiers: true,
      decimalPrecision: [38, 9],
      weiPrecision: [156, 78],
      timestampPrecision: 6,
      maxTimestampPrecision: 6,
      supportsDdlTransactions: true,
      alterAddMultiColumn: true,
      supportsTruncateCommand: true,
      supportedMergeStrategies: ["delete-insert", "upsert", "scd2", "insert-only"],
      supportedReplaceStrategies: ["truncate-and-insert", "insert-from-staging", "staging-optimized"],
    });
    expect(Object.isFrozen(POSTGRES_CAPABILITIES)).toBe(true);
  });
});

function usersTable(): TableSchema {
  return {
    name: "Users",
    write_disposition: "merge",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false, primary_key: true },
      name: { name: "name", data_type: "text" },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
    },
  };
}

describe("postgresDialect DDL", () => {
  it("should create tables with lower-cased identifiers and UNIQUE for unique columns", () => {
    const table = usersTable();
    const columns = Object.values(table.columns) as CompleteColumnSchema[];
    expect(createTableSql(postgresDialect, "Shop", table, columns)).toBe(
      'CREATE TABLE "shop"."users" (\n"id" bigint NOT NULL,\n"name" varchar,\n"_dlt_load_id" varchar NOT NULL,\n"_dlt_id" varchar COLLATE "C" UNIQUE NOT NULL)',
    );
    const noIndexes = createPostgresDialect({ createIndexes: false });
    expect(createTableSql(noIndexes, "shop", table, columns)).not.toContain("UNIQUE");
  });

  it("should add several columns in one ALTER TABLE", () => {
    const table = usersTable();
    const added = [
      { name: "email", data_type: "text" },
      { name: "meta", data_type: "json" },
    ] as CompleteColumnSchema[];
    expect(alterTableAddColumnsSql(postgresDialect, "shop", table, added)).toEqual([
      'ALTER TABLE "shop"."users"\nADD COLUMN "email" varchar,\nADD COLUMN "meta" jsonb',
    ]);
  });

  it("should compare stored names case-insensitively after lower-casing", () => {
    const schema = new Schema("shop");
    schema.updateTable(usersTable());
    const plan = schemaUpdateSql(postgresDialect, "shop", schema, {
      users: ["id", "name", "_dlt_load_id", "_dlt_id"],
    });
    expect(plan.statements.filter((s) => s.includes('"users"'))).toEqual([]);
  });
});

describe("postgresDialect follow-up SQL", () => {
  const datasets = { datasetName: "shop", stagingDatasetName: "shop_staging" };

  it("should move staging tables into the dataset for staging-optimized replaces", () => {
    expect(replaceSql(postgresDialect, [usersTable()], "staging-optimized", datasets)).toEqual([
      'DROP TABLE IF EXISTS "shop"."users"',
      'ALTER TABLE "shop_staging"."users" SET SCHEMA "shop"',
      'CREATE TABLE "shop_staging"."users" (LIKE "shop"."users" INCLUDING ALL)',
    ]);
    expect(replaceSql(postgresDialect, [usersTable()], "insert-from-staging", datasets)).toEqual([
      'TRUNCATE TABLE "shop"."users"',
      'INSERT INTO "shop"."users" ("id", "name", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "_dlt_load_id", "_dlt_id" FROM "shop_staging"."users"',
    ]);
  });

  it("should deduplicate staging rows in load order (ctid) and MERGE upserts", () => {
    const chain = (strategy: "delete-insert" | "upsert"): TableChain => ({
      tables: [usersTable()],
      disposition: { kind: "merge", strategy },
      packageCreatedAt: new Date("2024-01-01T00:00:00Z"),
    });
    const deleteInsert = tableChainFollowupSql(postgresDialect, chain("delete-insert"), datasets);
    expect(deleteInsert[0]).toBe(
      'DELETE FROM "shop"."users" AS d WHERE EXISTS (SELECT 1 FROM "shop_staging"."users" AS s WHERE (d."id" = s."id"))',
    );
    expect(deleteInsert[1]).toContain('ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY ctid)');
    const upsert = tableChainFollowupSql(postgresDialect, chain("upsert"), datasets);
    expect(upsert[0]).toMatch(/^MERGE INTO "shop"."users" AS d USING \(SELECT \* FROM/);
  });
});
