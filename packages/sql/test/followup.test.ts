/**
 * The follow-up SQL of merge and replace chains (REFERENCE §4.2–4.3), checked statement by statement
 * for a Postgres-like dialect (no load-order expression, TRUNCATE) and a DuckDB-like one (`rowid`,
 * DELETE instead of TRUNCATE). Execution is covered by the DuckDB end-to-end tests in `tsdlt`.
 */
import type { ColumnSchema, TableChain, TableSchema } from "@tsdlt/core";
import { defineCapabilities } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import {
  cloneStagingTableSql,
  createSqlDialect,
  createTableSql,
  deleteInsertSql,
  insertOnlySql,
  mergeSql,
  moveStagingTableSql,
  parseSqlJobText,
  replaceSql,
  type SqlDialect,
  scd2Settings,
  scd2Sql,
  stagingDialect,
  tableChainFollowupSql,
  toSqlJobText,
  upsertSql,
} from "../src/index.js";

const pg: SqlDialect = createSqlDialect({
  name: "pg",
  capabilities: defineCapabilities({}),
  toDbType: () => "text",
});
const duck: SqlDialect = createSqlDialect({
  name: "duck",
  capabilities: defineCapabilities({ supportsTruncateCommand: false }),
  toDbType: () => "TEXT",
  loadOrderExpression: "rowid",
});
const DATASETS = { datasetName: "ds", stagingDatasetName: "ds_staging" };

function table(
  name: string,
  columns: Record<string, ColumnSchema>,
  extra: Partial<TableSchema> = {},
): TableSchema {
  const named: Record<string, ColumnSchema> = {};
  for (const [key, column] of Object.entries(columns)) named[key] = { name: key, ...column };
  return { name, columns: named, ...extra };
}

const DLT_ID: ColumnSchema = { data_type: "text", nullable: false, unique: true, row_key: true };

function users(columns: Record<string, ColumnSchema> = {}, extra: Partial<TableSchema> = {}): TableSchema {
  return table(
    "users",
    {
      id: { data_type: "bigint", nullable: false, primary_key: true },
      name: { data_type: "text" },
      pending: {}, // incomplete: never selected
      ...columns,
      _dlt_load_id: { data_type: "text", nullable: false },
      _dlt_id: DLT_ID,
    },
    { write_disposition: "merge", ...extra },
  );
}

function items(
  columns: Record<string, ColumnSchema> = {},
  parent = "users",
  name = "users__items",
): TableSchema {
  return table(
    name,
    {
      value: { data_type: "text" },
      ...columns,
      _dlt_parent_id: { data_type: "text", nullable: false, parent_key: true },
      _dlt_list_idx: { data_type: "bigint", nullable: false },
      _dlt_id: DLT_ID,
    },
    { parent },
  );
}

const ROOT_KEY: Record<string, ColumnSchema> = {
  _dlt_root_id: { data_type: "text", nullable: false, root_key: true },
};

describe("delete-insert", () => {
  it("should delete matching keys and insert deduplicated rows for a root table alone", () => {
    expect(deleteInsertSql(pg, [users()], DATASETS)).toEqual([
      'DELETE FROM "ds"."users" AS d WHERE EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE (d."id" = s."id"))',
      'INSERT INTO "ds"."users" ("id", "name", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "_dlt_load_id", "_dlt_id"' +
        ' FROM (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "_dlt_id") AS _dlt_dedup_rn' +
        ' FROM "ds_staging"."users") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1) AS _dlt_dedup_numbered',
    ]);
  });

  it("should delete nested rows through the root key, then insert only the nested rows of inserted roots", () => {
    const root = users({
      day: { data_type: "bigint", merge_key: true },
      deleted: { data_type: "bool", hard_delete: true },
      updated: { data_type: "bigint", dedup_sort: "desc" },
    });
    const sql = deleteInsertSql(duck, [root, items(ROOT_KEY)], DATASETS);
    const match = '(d."id" = s."id") OR (d."day" = s."day")';
    const winners =
      '(SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "updated" DESC, rowid) AS _dlt_dedup_rn' +
      ' FROM "ds_staging"."users") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1 AND ("deleted" IS NULL OR "deleted" = FALSE))';
    expect(sql).toEqual([
      `DELETE FROM "ds"."users__items" WHERE "_dlt_root_id" IN (SELECT d."_dlt_id" FROM "ds"."users" AS d WHERE EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE ${match}))`,
      `DELETE FROM "ds"."users" AS d WHERE EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE ${match})`,
      `INSERT INTO "ds"."users" ("id", "name", "day", "deleted", "updated", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "day", "deleted", "updated", "_dlt_load_id", "_dlt_id" FROM ${winners} AS _dlt_dedup_numbered`,
      `INSERT INTO "ds"."users__items" ("value", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id") SELECT "value", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id" FROM "ds_staging"."users__items" WHERE "_dlt_root_id" IN (SELECT "_dlt_id" FROM ${winners} AS _dlt_dedup_numbered)`,
    ]);
  });

  it("should compare compound keys column by column, never concatenated", () => {
    const root = users({ region: { data_type: "text", primary_key: true } });
    const [del] = deleteInsertSql(pg, [root], DATASETS);
    expect(del).toContain('(d."id" = s."id" AND d."region" = s."region")');
    expect(deleteInsertSql(pg, [root], DATASETS).join("\n")).not.toMatch(/CONCAT|\|\|/);
  });

  it("should append staging rows when there are no keys, without hard-deleted ones", () => {
    const root = users({ gone: { data_type: "timestamp", hard_delete: true } });
    root.columns.id = { name: "id", data_type: "bigint" };
    const sql = deleteInsertSql(pg, [root, items(ROOT_KEY)], DATASETS);
    expect(sql).toHaveLength(2);
    expect(sql[0]).toBe(
      'INSERT INTO "ds"."users" ("id", "name", "gone", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "gone", "_dlt_load_id", "_dlt_id" FROM (SELECT * FROM "ds_staging"."users" WHERE "gone" IS NULL) AS _dlt_dedup_numbered',
    );
    // nested rows only of roots that are not deleted
    expect(sql[1]).toContain(
      'WHERE "_dlt_root_id" IN (SELECT "_dlt_id" FROM (SELECT * FROM "ds_staging"."users" WHERE "gone" IS NULL)',
    );
  });

  it("should insert every nested row with a merge key only and no hard delete", () => {
    const root = users();
    root.columns.id = { name: "id", data_type: "bigint", merge_key: true };
    const sql = deleteInsertSql(pg, [root, items(ROOT_KEY)], DATASETS);
    expect(sql.at(-1)).toBe(
      'INSERT INTO "ds"."users__items" ("value", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id") SELECT "value", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id" FROM "ds_staging"."users__items"',
    );
  });

  it("should skip deduplication for `x-stage-data-deduplicated`", () => {
    const sql = deleteInsertSql(pg, [users({}, { "x-stage-data-deduplicated": true })], DATASETS);
    expect(sql.join("\n")).not.toContain("ROW_NUMBER");
  });

  it("should fall back to the parent key one level deep and fail deeper without a root key", () => {
    const sql = deleteInsertSql(pg, [users(), items()], DATASETS);
    expect(sql[0]).toContain('DELETE FROM "ds"."users__items" WHERE "_dlt_parent_id" IN');
    const deep = items({}, "users__items", "users__items__tags");
    expect(() => deleteInsertSql(pg, [users(), items(), deep], DATASETS)).toThrow(
      /nested table `users__items__tags` has no `root_key` column/,
    );
  });
});

describe("upsert", () => {
  it("should MERGE the root on the primary key and the nested tables on their row key", () => {
    const root = users({ deleted: { data_type: "bool", hard_delete: true } });
    const sql = upsertSql(pg, [root, items(ROOT_KEY)], DATASETS);
    const cols = '"id", "name", "deleted", "_dlt_load_id", "_dlt_id"';
    expect(sql[0]).toBe(
      'MERGE INTO "ds"."users" AS d USING (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "_dlt_id") AS _dlt_dedup_rn FROM "ds_staging"."users") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1) AS s ON d."id" = s."id"' +
        ' WHEN MATCHED AND s."deleted" = TRUE THEN DELETE' +
        ' WHEN MATCHED THEN UPDATE SET "id" = s."id", "name" = s."name", "deleted" = s."deleted", "_dlt_load_id" = s."_dlt_load_id", "_dlt_id" = s."_dlt_id"' +
        ` WHEN NOT MATCHED AND (s."deleted" IS NULL OR s."deleted" = FALSE) THEN INSERT (${cols}) VALUES (s."id", s."name", s."deleted", s."_dlt_load_id", s."_dlt_id")`,
    );
    expect(sql[1]).toBe(
      'DELETE FROM "ds"."users__items" AS d WHERE d."_dlt_root_id" IN (SELECT "_dlt_id" FROM "ds_staging"."users") AND NOT EXISTS (SELECT 1 FROM "ds_staging"."users__items" AS s WHERE s."_dlt_id" = d."_dlt_id")',
    );
    expect(sql[2]).toMatch(
      /^MERGE INTO "ds"."users__items" AS d USING .* AS s ON d."_dlt_id" = s."_dlt_id" WHEN MATCHED THEN UPDATE SET .* WHEN NOT MATCHED THEN INSERT/,
    );
    expect(sql[3]).toBe(
      'DELETE FROM "ds"."users__items" WHERE "_dlt_root_id" IN (SELECT "_dlt_id" FROM "ds_staging"."users" WHERE "deleted" = TRUE)',
    );
  });

  it("should need a primary key", () => {
    const root = users();
    root.columns.id = { name: "id", data_type: "bigint" };
    expect(() => upsertSql(pg, [root], DATASETS)).toThrow(/`upsert` merge strategy needs a primary key/);
    expect(() => insertOnlySql(pg, [root], DATASETS)).toThrow(
      /`insert-only` merge strategy needs a primary key/,
    );
  });
});

describe("insert-only", () => {
  it("should only insert keys not present, filtering hard-deleted rows first", () => {
    const root = users({ deleted: { data_type: "bool", hard_delete: true } });
    const sql = insertOnlySql(duck, [root, items(ROOT_KEY)], DATASETS);
    expect(sql[0]).toBe(
      'MERGE INTO "ds"."users" AS d USING (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY rowid) AS _dlt_dedup_rn FROM "ds_staging"."users" WHERE ("deleted" IS NULL OR "deleted" = FALSE)) AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1) AS s ON d."id" = s."id"' +
        ' WHEN NOT MATCHED THEN INSERT ("id", "name", "deleted", "_dlt_load_id", "_dlt_id") VALUES (s."id", s."name", s."deleted", s."_dlt_load_id", s."_dlt_id")',
    );
    expect(sql[1]).toContain(
      'FROM "ds_staging"."users__items" WHERE "_dlt_root_id" IN (SELECT "_dlt_id" FROM "ds_staging"."users" WHERE ("deleted" IS NULL OR "deleted" = FALSE))',
    );
    expect(sql[1]).toContain('ON d."_dlt_id" = s."_dlt_id" WHEN NOT MATCHED THEN INSERT');
    expect(sql.join("\n")).not.toMatch(/UPDATE|DELETE/);
  });
});

describe("scd2", () => {
  const scd2Columns: Record<string, ColumnSchema> = {
    _dlt_valid_from: { data_type: "timestamp", nullable: true, "x-valid-from": true },
    _dlt_valid_to: { data_type: "timestamp", nullable: true, "x-valid-to": true },
  };
  function scd2Root(
    columns: Record<string, ColumnSchema> = {},
    extra: Partial<TableSchema> = {},
  ): TableSchema {
    const root = users({ ...scd2Columns, ...columns }, { "x-merge-strategy": "scd2", ...extra });
    root.columns.id = { name: "id", data_type: "bigint" };
    root.columns._dlt_id = {
      name: "_dlt_id",
      data_type: "text",
      nullable: false,
      "x-row-version": true,
      unique: false,
      row_key: false,
    };
    return root;
  }
  const created = new Date("2024-05-01T10:00:00.000Z");

  it("should retire absent versions and insert new ones at the boundary", () => {
    const sql = scd2Sql(pg, [scd2Root(), items()], { ...DATASETS, packageCreatedAt: created });
    const boundary = "CAST('2024-05-01T10:00:00.000Z' AS TIMESTAMP WITH TIME ZONE)";
    expect(sql).toEqual([
      `UPDATE "ds"."users" AS d SET "_dlt_valid_to" = ${boundary} WHERE d."_dlt_valid_to" IS NULL AND NOT EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE s."_dlt_id" = d."_dlt_id")`,
      `INSERT INTO "ds"."users" ("id", "name", "_dlt_load_id", "_dlt_id", "_dlt_valid_from", "_dlt_valid_to") SELECT s."id", s."name", s."_dlt_load_id", s."_dlt_id", ${boundary}, NULL` +
        ' FROM (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "_dlt_id" ORDER BY "_dlt_id") AS _dlt_dedup_rn FROM "ds_staging"."users") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1) AS s' +
        ' WHERE NOT EXISTS (SELECT 1 FROM "ds"."users" AS d WHERE d."_dlt_id" = s."_dlt_id" AND d."_dlt_valid_to" IS NULL)',
      'INSERT INTO "ds"."users__items" ("value", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id") SELECT s."value", s."_dlt_parent_id", s."_dlt_list_idx", s."_dlt_id"' +
        ' FROM (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "_dlt_id" ORDER BY "_dlt_id") AS _dlt_dedup_rn FROM "ds_staging"."users__items") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1) AS s' +
        ' WHERE NOT EXISTS (SELECT 1 FROM "ds"."users__items" AS d WHERE d."_dlt_id" = s."_dlt_id")',
    ]);
  });

  it("should use the boundary hint, the active record timestamp and column-wise merge keys", () => {
    const root = scd2Root(
      {
        _dlt_valid_to: {
          data_type: "timestamp",
          nullable: true,
          "x-valid-to": true,
          "x-active-record-timestamp": "9999-12-31",
        },
        a: { data_type: "text", merge_key: true },
        b: { data_type: "text", merge_key: true },
      },
      { "x-boundary-timestamp": "2024-01-02T03:04:05" },
    );
    const [retire, insert] = scd2Sql(duck, [root], { ...DATASETS, packageCreatedAt: created });
    const boundary = "CAST('2024-01-02T03:04:05.000Z' AS TIMESTAMP WITH TIME ZONE)";
    const active = "CAST('9999-12-31T00:00:00.000Z' AS TIMESTAMP WITH TIME ZONE)";
    expect(retire).toBe(
      `UPDATE "ds"."users" AS d SET "_dlt_valid_to" = ${boundary} WHERE d."_dlt_valid_to" = ${active}` +
        ' AND NOT EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE s."_dlt_id" = d."_dlt_id")' +
        ' AND EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE s."a" = d."a" AND s."b" = d."b")',
    );
    expect(insert).toContain(`${boundary}, ${active} FROM`);
    expect(insert).toContain(`d."_dlt_valid_to" = ${active})`);
    expect([retire, insert].join("\n")).not.toMatch(/CONCAT|\|\|/);
  });

  it("should read configured names and a custom row version", () => {
    const root = table("t", {
      id: { data_type: "bigint" },
      version: { data_type: "text", "x-row-version": true },
      from: { data_type: "timestamp", "x-valid-from": true },
      until: { data_type: "timestamp", "x-valid-to": true },
      _dlt_id: DLT_ID,
    });
    expect(scd2Settings(pg, root, DATASETS)).toEqual({
      validFrom: "from",
      validTo: "until",
      rowVersion: "version",
      activeRecordTimestamp: undefined,
      boundaryTimestamp: undefined,
    });
  });

  it("should explain missing validity columns and bad timestamps", () => {
    expect(() => scd2Sql(pg, [users()], { ...DATASETS, packageCreatedAt: created })).toThrow(
      /scd2 table has no `x-valid-from` column/,
    );
    const bad = scd2Root({}, { "x-boundary-timestamp": "yesterday" });
    expect(() => scd2Sql(pg, [bad], { ...DATASETS, packageCreatedAt: created })).toThrow(
      /hint `x-boundary-timestamp` holds "yesterday"/,
    );
  });
});

describe("replace", () => {
  const chain = [users({}, { write_disposition: "replace" }), items()];

  it("should empty and refill every table of the chain from staging", () => {
    expect(replaceSql(pg, chain, "insert-from-staging", DATASETS)).toEqual([
      'TRUNCATE TABLE "ds"."users"',
      'INSERT INTO "ds"."users" ("id", "name", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "_dlt_load_id", "_dlt_id" FROM "ds_staging"."users"',
      'TRUNCATE TABLE "ds"."users__items"',
      'INSERT INTO "ds"."users__items" ("value", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id") SELECT "value", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id" FROM "ds_staging"."users__items"',
    ]);
    expect(replaceSql(duck, chain, "truncate-and-insert", DATASETS)[0]).toBe('DELETE FROM "ds"."users"');
  });

  it("should swap tables with the dialect's staging-optimized hook, else insert from staging", () => {
    expect(replaceSql(duck, chain, "staging-optimized", DATASETS)).toEqual(
      replaceSql(duck, chain, "insert-from-staging", DATASETS),
    );
    const moving = createSqlDialect({
      name: "pg",
      capabilities: defineCapabilities({}),
      toDbType: () => "text",
      stagingOptimizedReplace: moveStagingTableSql,
    });
    expect(replaceSql(moving, chain.slice(0, 1), "staging-optimized", DATASETS)).toEqual([
      'DROP TABLE IF EXISTS "ds"."users"',
      'ALTER TABLE "ds_staging"."users" SET SCHEMA "ds"',
      'CREATE TABLE "ds_staging"."users" (LIKE "ds"."users" INCLUDING ALL)',
    ]);
    expect(cloneStagingTableSql({ dialect: pg, table: chain[0] as TableSchema, ...DATASETS })).toEqual([
      'DROP TABLE IF EXISTS "ds"."users"',
      'CREATE TABLE "ds"."users" CLONE "ds_staging"."users"',
    ]);
  });
});

describe("table chain follow-ups", () => {
  it("should dispatch on the chain's disposition", () => {
    const merge: TableChain = {
      tables: [users()],
      disposition: { kind: "merge", strategy: "delete-insert" },
      packageCreatedAt: new Date(0),
    };
    expect(tableChainFollowupSql(pg, merge, DATASETS)).toEqual(
      mergeSql(pg, [users()], "delete-insert", DATASETS),
    );
    const replace: TableChain = {
      ...merge,
      disposition: { kind: "replace", strategy: "insert-from-staging" },
    };
    expect(tableChainFollowupSql(pg, replace, DATASETS)).toEqual(
      replaceSql(pg, [users()], "insert-from-staging", DATASETS),
    );
  });

  it("should write one statement per line and read them back", () => {
    const text = toSqlJobText(["SELECT 1\nFROM x", "  DELETE FROM y  "]);
    expect(text).toBe("SELECT 1 FROM x\nDELETE FROM y");
    expect(parseSqlJobText(`${text}\n\n`)).toEqual(["SELECT 1 FROM x", "DELETE FROM y"]);
  });
});

describe("stagingDialect", () => {
  it("should create staging tables without UNIQUE constraints", () => {
    const indexed = createSqlDialect({
      name: "pg",
      capabilities: defineCapabilities({}),
      toDbType: () => "text",
      createIndexes: true,
    });
    const root = users();
    const columns = Object.values(root.columns).filter((c) => c.data_type !== undefined) as Parameters<
      typeof createTableSql
    >[3];
    expect(createTableSql(indexed, "ds", root, columns)).toContain('"_dlt_id" text UNIQUE NOT NULL');
    expect(createTableSql(stagingDialect(indexed), "ds_staging", root, columns)).toContain(
      '"_dlt_id" text NOT NULL',
    );
    expect(stagingDialect(pg)).toBe(pg);
  });
});
