import { inflateSync } from "node:zlib";
import {
  type CompleteColumnSchema,
  defineCapabilities,
  loadsTable,
  pipelineStateTable,
  Schema,
  type TableSchema,
  versionTable,
} from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import {
  alterTableAddColumnsSql,
  columnDefinitionSql,
  createDatasetSql,
  createSqlDialect,
  createTableSql,
  datasetExistsQuery,
  decodeStoredSchema,
  encodeStoredSchema,
  escapeDoubleQuotedIdentifier,
  escapeDuckDBLiteral,
  escapePostgresLiteral,
  insertLoadQuery,
  insertVersionQuery,
  qualifiedTableName,
  type SqlDialect,
  schemaFromStoredRow,
  schemaUpdateSql,
  schemaVersionExistsQuery,
  storageColumnsQuery,
  storedSchemaQuery,
  storedStateQuery,
  systemTableOf,
  toStorageColumns,
  truncateTableSql,
  withCatalog,
} from "../src/index.js";

const TYPES: Record<string, string> = {
  text: "varchar",
  bigint: "bigint",
  double: "double precision",
  bool: "boolean",
  timestamp: "timestamp with time zone",
  json: "jsonb",
};

/** Postgres-like: UNIQUE constraints, multi-column ALTER, lowercase casefolding. */
const pg: SqlDialect = createSqlDialect({
  name: "pg",
  capabilities: defineCapabilities({ alterAddMultiColumn: true, maxTextDataTypeLength: 1_000_000 }),
  createIndexes: true,
  casefoldIdentifier: (name) => name.toLowerCase(),
  toDbType: (column) => TYPES[column.data_type] ?? "text",
});

/** DuckDB-like: no indexes, one ALTER per column, no constraints on added columns, no TRUNCATE. */
const duck: SqlDialect = createSqlDialect({
  name: "duck",
  capabilities: defineCapabilities({
    alterAddMultiColumn: false,
    supportsTruncateCommand: false,
    hasCaseSensitiveIdentifiers: false,
  }),
  supportsAddColumnConstraints: false,
  escapeLiteral: escapeDuckDBLiteral,
  toDbType: (column) => (TYPES[column.data_type] ?? "text").toUpperCase(),
});

function usersTable(): TableSchema {
  return {
    name: "users",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false, primary_key: true },
      name: { name: "name", data_type: "text" },
      pending: { name: "pending" },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true },
    },
  };
}

function shopSchema(): Schema {
  const schema = new Schema("shop");
  schema.updateTable(usersTable());
  schema.bumpVersion();
  return schema;
}

describe("escaping", () => {
  it("should quote identifiers and double embedded quotes", () => {
    expect(escapeDoubleQuotedIdentifier("users")).toBe('"users"');
    expect(escapeDoubleQuotedIdentifier('we"ird')).toBe('"we""ird"');
  });

  it.each([
    ["plain", "E'plain'"],
    ["it's", "E'it''s'"],
    ["back\\slash", "E'back\\\\slash'"],
    ["line\nbreak\r", "E'line\\nbreak\\r'"],
  ])("should escape string %j as an E-literal", (value, expected) => {
    expect(escapePostgresLiteral(value)).toBe(expected);
    expect(escapeDuckDBLiteral(value)).toBe(expected);
  });

  it("should render scalars, dates, JSON and null", () => {
    expect(escapePostgresLiteral(null)).toBe("NULL");
    expect(escapePostgresLiteral(undefined)).toBe("NULL");
    expect(escapePostgresLiteral(12)).toBe("12");
    expect(escapePostgresLiteral(1.5)).toBe("1.5");
    expect(escapePostgresLiteral(Number.NaN)).toBe("'NaN'");
    expect(escapePostgresLiteral(Number.NEGATIVE_INFINITY)).toBe("'-Infinity'");
    expect(escapePostgresLiteral(9007199254740993n)).toBe("9007199254740993");
    expect(escapePostgresLiteral(true)).toBe("TRUE");
    expect(escapePostgresLiteral(new Date("2024-05-01T10:00:00Z"))).toBe("'2024-05-01T10:00:00.000Z'");
    expect(escapePostgresLiteral({ a: "it's", n: [1n] })).toBe(`E'{"a":"it''s","n":["1"]}'`);
  });

  it("should render bytes per dialect", () => {
    const bytes = new Uint8Array([104, 105]);
    expect(escapePostgresLiteral(bytes)).toBe("'\\x6869'");
    expect(escapeDuckDBLiteral(bytes)).toBe("from_base64('aGk=')");
  });
});

describe("DDL", () => {
  const table = usersTable();
  const complete = Object.values(table.columns).filter((c): c is CompleteColumnSchema => !!c.data_type);

  it("should qualify and casefold table names", () => {
    expect(qualifiedTableName(duck, "My_Data", "users")).toBe('"My_Data"."users"');
    expect(qualifiedTableName(pg, "My_Data", "Users")).toBe('"my_data"."users"');
  });

  it("should qualify table names with the dialect's catalog, kept as given", () => {
    const inCatalog = withCatalog(pg, 'My"Db');
    expect(qualifiedTableName(inCatalog, "ref", "Users")).toBe('"My""Db"."ref"."users"');
    expect(truncateTableSql(inCatalog, "ref", "users")).toBe('TRUNCATE TABLE "My""Db"."ref"."users"');
    // schemas are created in the current catalog, which the catalog is
    expect(createDatasetSql(inCatalog, "ref")).toBe('CREATE SCHEMA "ref"');
    expect(qualifiedTableName(withCatalog(inCatalog, undefined), "ref", "users")).toBe('"ref"."users"');
    expect(Object.isFrozen(inCatalog)).toBe(true);
  });

  it("should create datasets", () => {
    expect(createDatasetSql(duck, "ds")).toBe('CREATE SCHEMA "ds"');
    expect(createDatasetSql(duck, "ds", { ifNotExists: true })).toBe('CREATE SCHEMA IF NOT EXISTS "ds"');
  });

  it("should write column definitions with UNIQUE only when the dialect creates indexes", () => {
    const dltId = table.columns._dlt_id as CompleteColumnSchema;
    expect(columnDefinitionSql(pg, dltId, table)).toBe('"_dlt_id" varchar UNIQUE NOT NULL');
    expect(columnDefinitionSql(duck, dltId, table)).toBe('"_dlt_id" VARCHAR NOT NULL');
    expect(columnDefinitionSql(duck, table.columns.name as CompleteColumnSchema, table)).toBe(
      '"name" VARCHAR',
    );
  });

  it("should create a table from complete columns", () => {
    expect(createTableSql(duck, "ds", table, complete)).toBe(
      'CREATE TABLE "ds"."users" (\n"id" BIGINT NOT NULL,\n"name" VARCHAR,\n"_dlt_id" VARCHAR NOT NULL)',
    );
    expect(createTableSql(duck, "ds", table, complete.slice(1, 2), { ifNotExists: true })).toBe(
      'CREATE TABLE IF NOT EXISTS "ds"."users" (\n"name" VARCHAR)',
    );
  });

  it("should add several columns in one ALTER when the dialect allows it", () => {
    expect(alterTableAddColumnsSql(pg, "ds", table, complete)).toEqual([
      'ALTER TABLE "ds"."users"\nADD COLUMN "id" bigint NOT NULL,\nADD COLUMN "name" varchar,\nADD COLUMN "_dlt_id" varchar UNIQUE NOT NULL',
    ]);
  });

  it("should add one column per ALTER, without constraints, when the dialect requires it", () => {
    expect(alterTableAddColumnsSql(duck, "ds", table, complete)).toEqual([
      'ALTER TABLE "ds"."users"\nADD COLUMN "id" BIGINT',
      'ALTER TABLE "ds"."users"\nADD COLUMN "name" VARCHAR',
      'ALTER TABLE "ds"."users"\nADD COLUMN "_dlt_id" VARCHAR',
    ]);
    expect(alterTableAddColumnsSql(duck, "ds", table, [])).toEqual([]);
  });

  it("should empty tables with TRUNCATE or DELETE per capabilities", () => {
    expect(truncateTableSql(pg, "ds", "users")).toBe('TRUNCATE TABLE "ds"."users"');
    expect(truncateTableSql(duck, "ds", "users")).toBe('DELETE FROM "ds"."users"');
  });
});

describe("schemaUpdateSql", () => {
  it("should create every table with complete columns on an empty dataset, dlt tables IF NOT EXISTS", () => {
    const plan = schemaUpdateSql(duck, "ds", shopSchema(), {});
    expect(plan.newTables).toEqual(["_dlt_version", "_dlt_loads", "users"]);
    expect(plan.tables.users).toEqual(["id", "name", "_dlt_id"]);
    expect(plan.statements[0]).toBe(
      'CREATE TABLE IF NOT EXISTS "ds"."_dlt_version" (\n"version" BIGINT NOT NULL,\n"engine_version" BIGINT NOT NULL,\n' +
        '"inserted_at" TIMESTAMP WITH TIME ZONE NOT NULL,\n"schema_name" VARCHAR NOT NULL,\n"version_hash" VARCHAR NOT NULL,\n"schema" VARCHAR NOT NULL)',
    );
    expect(plan.statements[2]).toBe(
      'CREATE TABLE "ds"."users" (\n"id" BIGINT NOT NULL,\n"name" VARCHAR,\n"_dlt_id" VARCHAR NOT NULL)',
    );
    expect(plan.warnings).toEqual([]);
  });

  it("should only add new complete columns to existing tables and never drop", () => {
    const schema = shopSchema();
    schema.updateTable({ name: "users", columns: { email: { name: "email", data_type: "text" } } });
    const storage = {
      _dlt_version: ["version", "engine_version", "inserted_at", "schema_name", "version_hash", "schema"],
      _dlt_loads: ["load_id", "schema_name", "status", "inserted_at", "schema_version_hash"],
      users: ["ID", "name", "_dlt_id", "legacy_column"],
    };
    const plan = schemaUpdateSql(duck, "ds", schema, storage);
    expect(plan.statements).toEqual(['ALTER TABLE "ds"."users"\nADD COLUMN "email" VARCHAR']);
    expect(plan.tables).toEqual({ users: ["email"] });
    expect(plan.newTables).toEqual([]);
  });

  it("should compare names case-sensitively when the destination is case-sensitive", () => {
    const plan = schemaUpdateSql(
      pg,
      "ds",
      shopSchema(),
      { users: ["ID", "name", "_dlt_id"] },
      { onlyTables: ["users"] },
    );
    expect(plan.statements).toEqual(['ALTER TABLE "ds"."users"\nADD COLUMN "id" bigint NOT NULL']);
    expect(plan.warnings[0]).toContain("`id` with NOT NULL are added to existing table `users`");
  });

  it("should warn when constraints are left out of added columns", () => {
    const plan = schemaUpdateSql(duck, "ds", shopSchema(), { users: ["name"] }, { onlyTables: ["users"] });
    expect(plan.statements).toHaveLength(2);
    expect(plan.warnings).toEqual([
      "[tsdlt] [duck] Column(s) `id`, `_dlt_id` are added to existing table `users` without NOT NULL/UNIQUE: duck cannot add constrained columns to an existing table.",
    ]);
  });

  it("should restrict the plan to onlyTables and skip tables without complete columns", () => {
    const schema = shopSchema();
    schema.updateTable({ name: "empty", columns: { x: { name: "x" } } });
    schema.updateTable({ ...pipelineStateTable() });
    const plan = schemaUpdateSql(
      duck,
      "ds",
      schema,
      {},
      { onlyTables: ["empty", "_dlt_pipeline_state", "nope"] },
    );
    expect(plan.newTables).toEqual(["_dlt_pipeline_state"]);
    expect(plan.statements[0]).toMatch(
      /^CREATE TABLE IF NOT EXISTS "ds"."_dlt_pipeline_state" \(\n"version" BIGINT NOT NULL/,
    );
  });

  it("should return an empty plan when nothing is missing", () => {
    const schema = shopSchema();
    const storage = Object.fromEntries(
      Object.values(schema.tables).map((t) => [t.name, Object.keys(t.columns)]),
    );
    expect(schemaUpdateSql(duck, "ds", schema, storage)).toEqual({
      statements: [],
      tables: {},
      newTables: [],
      warnings: [],
      deferred: [],
    });
  });

  it("should leave UNIQUE of new data tables for after the load with deferUnique", () => {
    const schema = shopSchema();
    schema.updateTable({ ...pipelineStateTable() });
    schema.updateTable({
      name: "users",
      columns: { email: { name: "email", data_type: "text", unique: true } },
    });
    const plan = schemaUpdateSql(pg, "ds", schema, {}, { deferUnique: true });
    const users = plan.statements.find((sql) => sql.startsWith('CREATE TABLE "ds"."users"'));
    expect(users).toBeDefined();
    expect(users).not.toContain("UNIQUE");
    expect(users).toContain('"id" bigint NOT NULL');
    expect(plan.deferred).toEqual([
      { table: "users", sql: 'ALTER TABLE "ds"."users"\nADD UNIQUE ("_dlt_id"),\nADD UNIQUE ("email")' },
    ]);
    // system tables keep their definition; without the option nothing is deferred
    expect(plan.statements.find((sql) => sql.includes("_dlt_pipeline_state"))).toMatch(
      /CREATE TABLE IF NOT EXISTS/,
    );
    const plain = schemaUpdateSql(pg, "ds", schema, {});
    expect(plain.deferred).toEqual([]);
    expect(plain.statements.find((sql) => sql.startsWith('CREATE TABLE "ds"."users"'))).toContain(
      '"_dlt_id" varchar UNIQUE NOT NULL',
    );
  });
});

describe("information schema queries", () => {
  it("should list columns of the dataset with bound parameters", () => {
    expect(storageColumnsQuery(pg, "DS", ["Users", "orders"])).toEqual({
      sql:
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database()" +
        " AND table_schema = $1 AND table_name IN ($2, $3) ORDER BY table_name, ordinal_position",
      params: ["ds", "users", "orders"],
    });
    expect(storageColumnsQuery(duck, "ds").params).toEqual(["ds"]);
  });

  it("should fold rows into storage columns", () => {
    expect(
      toStorageColumns([
        { table_name: "a", column_name: "x" },
        { table_name: "a", column_name: "y" },
        { table_name: "b", column_name: "z" },
      ]),
    ).toEqual({ a: ["x", "y"], b: ["z"] });
  });

  it("should check the dataset exists", () => {
    expect(datasetExistsQuery(duck, "ds")).toEqual({
      sql: "SELECT 1 AS found FROM information_schema.schemata WHERE catalog_name = current_database() AND schema_name = $1",
      params: ["ds"],
    });
  });
});

describe("system table SQL", () => {
  it("should take _dlt_version and _dlt_loads from the schema, else from core's definitions", () => {
    const schema = shopSchema();
    expect(systemTableOf(schema, "_dlt_version")).toEqual(versionTable());
    expect(systemTableOf(schema, "_dlt_loads")).toEqual(loadsTable());
    const extended: TableSchema = {
      ...loadsTable(),
      columns: { ...loadsTable().columns, x: { name: "x", data_type: "text" } },
    };
    schema.updateTable(extended);
    expect(Object.keys(systemTableOf(schema, "_dlt_loads").columns)).toContain("x");
  });

  it("should insert a _dlt_version row with the schema JSON", () => {
    const schema = shopSchema();
    const at = new Date("2024-05-01T00:00:00Z");
    const query = insertVersionQuery(duck, "ds", schema, at);
    expect(query.sql).toBe(
      'INSERT INTO "ds"."_dlt_version" ("version", "engine_version", "inserted_at", "schema_name", "version_hash", "schema") VALUES ($1, $2, $3, $4, $5, $6)',
    );
    expect(query.params.slice(0, 5)).toEqual([schema.version, 11, at, "shop", schema.versionHash]);
    expect(JSON.parse(query.params[5] as string)).toEqual(schema.toDict());
  });

  it("should compress the schema when it is longer than the text limit", () => {
    const json = JSON.stringify({ name: "x".repeat(100) });
    expect(encodeStoredSchema(json, 1000)).toBe(json);
    const encoded = encodeStoredSchema(json, 50);
    expect(inflateSync(Buffer.from(encoded, "base64")).toString("utf8")).toBe(json);
    expect(decodeStoredSchema(encoded)).toEqual({ name: "x".repeat(100) });
    expect(decodeStoredSchema(json)).toEqual({ name: "x".repeat(100) });
    expect(() => decodeStoredSchema("not a schema")).toThrow(/cannot be restored/);
  });

  it("should round-trip a schema through a stored row", () => {
    const schema = shopSchema();
    const stored = insertVersionQuery(pg, "ds", schema).params[5] as string;
    const restored = schemaFromStoredRow({ schema: stored });
    expect(restored.versionHash).toBe(schema.versionHash);
    expect(restored.toDict()).toEqual(schema.toDict());
  });

  it("should insert a _dlt_loads row with status 0", () => {
    const at = new Date("2024-05-01T00:00:00Z");
    expect(
      insertLoadQuery(duck, "ds", {
        loadId: "1.5",
        schemaName: "shop",
        schemaVersionHash: "h",
        insertedAt: at,
      }),
    ).toEqual({
      sql: 'INSERT INTO "ds"."_dlt_loads" ("load_id", "schema_name", "status", "inserted_at", "schema_version_hash") VALUES ($1, $2, $3, $4, $5)',
      params: ["1.5", "shop", 0, at, "h"],
    });
  });

  it("should select the newest schema by name or by hash", () => {
    expect(storedSchemaQuery(duck, "ds", { schemaName: "shop" })).toEqual({
      sql:
        'SELECT "version_hash", "schema_name", "version", "engine_version", "inserted_at", "schema" FROM "ds"."_dlt_version"' +
        ' WHERE "schema_name" = $1 ORDER BY "inserted_at" DESC LIMIT 1',
      params: ["shop"],
    });
    expect(storedSchemaQuery(duck, "ds", { versionHash: "abc" }).sql).toContain('WHERE "version_hash" = $1');
    expect(schemaVersionExistsQuery(duck, "ds", "abc")).toEqual({
      sql: 'SELECT 1 AS found FROM "ds"."_dlt_version" WHERE "version_hash" = $1 LIMIT 1',
      params: ["abc"],
    });
  });

  it("should select the newest state from completed loads", () => {
    expect(storedStateQuery(duck, "ds", "quick_start")).toEqual({
      sql:
        'SELECT s."version", s."engine_version", s."pipeline_name", s."state", s."created_at", s."version_hash", s."_dlt_load_id"' +
        ' FROM "ds"."_dlt_pipeline_state" AS s JOIN "ds"."_dlt_loads" AS l ON l."load_id" = s."_dlt_load_id"' +
        ' WHERE s."pipeline_name" = $1 AND l."status" = 0 ORDER BY l."load_id" DESC LIMIT 1',
      params: ["quick_start"],
    });
  });
});
