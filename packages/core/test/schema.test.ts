import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  defaultHints,
  isTsdltError,
  LOADS_TABLE_NAME,
  normalizeSchemaName,
  pipelineStateTable,
  SCHEMA_ENGINE_VERSION,
  Schema,
  SchemaError,
  type TableSchema,
  VERSION_TABLE_NAME,
} from "../src/index.js";

function columnTypes(
  table: TableSchema | undefined,
): Array<[string, string | undefined, boolean | undefined]> {
  return Object.entries(table?.columns ?? {}).map(([name, c]) => [name, c.data_type, c.nullable]);
}

function ordersSchema(): Schema {
  const schema = new Schema("shop");
  schema.updateTable({
    name: "orders",
    write_disposition: "merge",
    resource: "orders",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false, primary_key: true },
      created_at: { name: "created_at", data_type: "timestamp", nullable: true },
    },
  });
  schema.updateTable({
    name: "orders__items",
    parent: "orders",
    columns: { sku: { name: "sku", data_type: "text", nullable: true } },
  });
  schema.updateTable({
    name: "orders__items__tags",
    parent: "orders__items",
    columns: { value: { name: "value", data_type: "text" } },
  });
  schema.updateTable({
    name: "orders__payments",
    parent: "orders",
    columns: { amount: { name: "amount", data_type: "decimal" } },
  });
  schema.updateTable({ name: "customers", columns: { name: { name: "name", data_type: "text" } } });
  return schema;
}

describe("Schema", () => {
  it("should carry the dlt system tables with the exact columns of REFERENCE §3.3", () => {
    const schema = new Schema("my_source");
    expect(Object.keys(schema.tables)).toEqual([VERSION_TABLE_NAME, LOADS_TABLE_NAME]);
    expect(columnTypes(schema.getTable("_dlt_version"))).toEqual([
      ["version", "bigint", false],
      ["engine_version", "bigint", false],
      ["inserted_at", "timestamp", false],
      ["schema_name", "text", false],
      ["version_hash", "text", false],
      ["schema", "text", false],
    ]);
    expect(columnTypes(schema.getTable("_dlt_loads"))).toEqual([
      ["load_id", "text", false],
      ["schema_name", "text", true],
      ["status", "bigint", false],
      ["inserted_at", "timestamp", false],
      ["schema_version_hash", "text", true],
    ]);
    expect(schema.getTable("_dlt_loads")?.columns.load_id?.precision).toBe(64);
    for (const table of schema.dltTables()) {
      expect(table.write_disposition).toBe("skip");
      expect(table.resource).toBe(table.name);
    }
    expect(schema.getTable("_dlt_version")?.description).toBe("Created by DLT. Tracks schema updates");
    expect(schema.getTable("_dlt_loads")?.description).toBe("Created by DLT. Tracks completed loads");
    expect(schema.dataTables()).toEqual([]);
  });

  it("should describe _dlt_pipeline_state with dlt's columns in order", () => {
    expect(columnTypes(pipelineStateTable())).toEqual([
      ["version", "bigint", false],
      ["engine_version", "bigint", false],
      ["pipeline_name", "text", false],
      ["state", "text", false],
      ["created_at", "timestamp", false],
      ["version_hash", "text", true],
      ["_dlt_load_id", "text", false],
    ]);
  });

  it("should start with dlt's default hints, detections and engine version", () => {
    const schema = new Schema("my_source");
    expect(schema.settings.default_hints).toEqual({
      not_null: ["_dlt_id", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_load_id"],
      parent_key: ["_dlt_parent_id"],
      root_key: ["_dlt_root_id"],
      unique: ["_dlt_id"],
      row_key: ["_dlt_id"],
    });
    expect(schema.settings.default_hints).toEqual(defaultHints());
    expect(schema.settings.detections).toEqual(["iso_timestamp"]);
    expect(schema.engineVersion).toBe(11);
    expect(SCHEMA_ENGINE_VERSION).toBe(11);
    expect(schema.version).toBe(1);
    expect(schema.versionHash).not.toBe("");
    expect(schema.previousHashes).toEqual([]);
    expect(schema.normalizers).toEqual({
      names: "snake_case",
      json: { module: "dlt.common.normalizers.json.relational" },
    });
  });

  it.each(["", "x".repeat(65)])("should reject the invalid schema name %j", (name) => {
    expect(() => new Schema(name)).toThrowError(expect.objectContaining({ code: "SCHEMA_INVALID" }));
    expect(() => new Schema(name)).toThrow(SchemaError);
  });

  it("should normalize schema names with snake_case limited to 64 characters", () => {
    expect(normalizeSchemaName("MySource")).toBe("my_source");
    expect(normalizeSchemaName("S".repeat(100))).toHaveLength(64);
  });

  it("should merge columns in order when updating a table", () => {
    const schema = new Schema("s");
    schema.updateTable({
      name: "users",
      columns: { id: { name: "id", data_type: "bigint" }, name: { name: "name", data_type: "text" } },
    });
    const merged = schema.updateTable({
      name: "users",
      write_disposition: "replace",
      columns: {
        email: { name: "email", data_type: "text" },
        id: { name: "id", nullable: false, primary_key: true },
      },
    });
    expect(Object.keys(merged.columns)).toEqual(["id", "name", "email"]);
    expect(merged.columns.id).toEqual({
      name: "id",
      data_type: "bigint",
      nullable: false,
      primary_key: true,
    });
    expect(merged.write_disposition).toBe("replace");
    expect(schema.getTable("users")).toBe(merged);
  });

  it("should return only complete columns unless asked for incomplete ones", () => {
    const schema = new Schema("s");
    schema.updateTable({
      name: "users",
      columns: { id: { name: "id", data_type: "bigint" }, pending: { name: "pending", nullable: true } },
    });
    expect(Object.keys(schema.getTableColumns("users"))).toEqual(["id"]);
    expect(Object.keys(schema.getTableColumns("users", true))).toEqual(["id", "pending"]);
    expect(schema.getTableColumns("missing")).toEqual({});
  });

  it("should bump the version and record the previous hash only when content changes", () => {
    const schema = new Schema("s");
    const initialHash = schema.versionHash;
    expect(schema.isModified()).toBe(false);
    expect(schema.bumpVersion()).toEqual({ version: 1, versionHash: initialHash });
    expect(schema.previousHashes).toEqual([]);

    schema.updateTable({ name: "users", columns: { id: { name: "id", data_type: "bigint" } } });
    expect(schema.isModified()).toBe(true);
    const bumped = schema.bumpVersion();
    expect(bumped.version).toBe(2);
    expect(bumped.versionHash).not.toBe(initialHash);
    expect(schema.previousHashes).toEqual([initialHash]);
    expect(schema.isModified()).toBe(false);

    // No change: nothing moves.
    expect(schema.bumpVersion()).toEqual(bumped);
    expect(schema.previousHashes).toEqual([initialHash]);
  });

  it("should change the hash when column order changes", () => {
    const a = new Schema("s");
    a.updateTable({
      name: "t",
      columns: { x: { name: "x", data_type: "text" }, y: { name: "y", data_type: "text" } },
    });
    const b = new Schema("s");
    b.updateTable({
      name: "t",
      columns: { y: { name: "y", data_type: "text" }, x: { name: "x", data_type: "text" } },
    });
    expect(a.bumpVersion().versionHash).not.toBe(b.bumpVersion().versionHash);
  });

  it("should keep at most 10 previous hashes, newest first", () => {
    const schema = new Schema("s");
    const hashes: string[] = [];
    for (let i = 0; i < 12; i++) {
      hashes.unshift(schema.versionHash);
      schema.updateTable({ name: "t", columns: { [`c${i}`]: { name: `c${i}`, data_type: "text" } } });
      schema.bumpVersion();
    }
    expect(schema.version).toBe(13);
    expect(schema.previousHashes).toEqual(hashes.slice(0, 10));
  });

  it("should round-trip through toDict and fromDict", () => {
    const schema = ordersSchema();
    schema.bumpVersion();
    schema.settings.preferred_types = { "re:_at$": "timestamp" };
    schema.bumpVersion();
    const doc = schema.toDict();
    expect(Object.keys(doc)).toEqual([
      "version",
      "version_hash",
      "engine_version",
      "name",
      "tables",
      "settings",
      "normalizers",
      "previous_hashes",
    ]);
    const restored = Schema.fromDict(JSON.parse(JSON.stringify(doc)));
    expect(restored.toDict()).toEqual(doc);
    expect(restored.version).toBe(3);
    expect(restored.versionHash).toBe(schema.versionHash);
    expect(restored.previousHashes).toEqual(schema.previousHashes);
    expect(restored.isModified()).toBe(false);
    expect(Object.keys(restored.getTable("orders")?.columns ?? {})).toEqual(["id", "created_at"]);
  });

  it("should not share state between a schema and its clone", () => {
    const schema = ordersSchema();
    const clone = schema.clone();
    clone.updateTable({ name: "orders", columns: { extra: { name: "extra", data_type: "text" } } });
    expect(schema.getTable("orders")?.columns.extra).toBeUndefined();
  });

  it("should export pretty YAML without name keys inside tables and columns", () => {
    const schema = ordersSchema();
    schema.bumpVersion();
    const yamlText = schema.toPrettyYaml();
    const doc = parseYaml(yamlText) as {
      name: string;
      engine_version: number;
      tables: Record<string, Record<string, unknown> & { columns: Record<string, Record<string, unknown>> }>;
    };
    expect(doc.name).toBe("shop");
    expect(doc.engine_version).toBe(11);
    expect(Object.keys(doc)[0]).toBe("version");
    for (const [tableName, table] of Object.entries(doc.tables)) {
      expect(table, tableName).not.toHaveProperty("name");
      for (const [columnName, column] of Object.entries(table.columns)) {
        expect(column, `${tableName}.${columnName}`).not.toHaveProperty("name");
      }
    }
    expect(doc.tables.orders?.columns.id).toEqual({
      data_type: "bigint",
      nullable: false,
      primary_key: true,
    });
    expect(yamlText).toContain("detections:\n    - iso_timestamp");

    const back = Schema.fromText(yamlText);
    expect(back.toDict()).toEqual(schema.toDict());
    expect(back.versionHash).toBe(schema.versionHash);
    expect(back.isModified()).toBe(false);
  });

  it("should omit false hints and timezone: true from the export", () => {
    const schema = new Schema("s");
    schema.updateTable({
      name: "t",
      columns: {
        at: { name: "at", data_type: "timestamp", timezone: true, primary_key: false, nullable: true },
      },
    });
    expect(schema.toDict({ removeDefaults: true }).tables.t?.columns.at).toEqual({
      data_type: "timestamp",
      nullable: true,
    });
  });

  it("should keep nullable: false in the export so NOT NULL survives a YAML round trip", () => {
    const schema = new Schema("s");
    schema.updateTable({
      name: "t",
      columns: { id: { name: "id", data_type: "bigint", nullable: false, unique: false } },
    });
    const exported = schema.toDict({ removeDefaults: true });
    expect(exported.tables.t?.columns.id).toEqual({ data_type: "bigint", nullable: false });
    expect(exported.tables._dlt_version?.columns.version).toEqual({ data_type: "bigint", nullable: false });
    expect(Schema.fromText(schema.toPrettyYaml()).getTable("t")?.columns.id?.nullable).toBe(false);
  });

  it("should read JSON text as well as YAML", () => {
    const schema = ordersSchema();
    expect(Schema.fromText(schema.toPrettyJson()).toDict()).toEqual(schema.toDict());
  });

  it("should reject an unknown data_type, naming the table and the column", () => {
    const doc = new Schema("s").toDict();
    doc.tables.events = {
      name: "events",
      columns: { payload: { name: "payload", data_type: "varchar" as never } },
    };
    let thrown: unknown;
    try {
      Schema.fromDict(doc);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SchemaError);
    expect(isTsdltError(thrown, "SCHEMA_INVALID")).toBe(true);
    expect((thrown as Error).message).toContain("`events.payload`");
    expect((thrown as Error).message).toContain('"varchar"');
    expect(thrown).toMatchObject({ table: "events", column: "payload" });
  });

  it.each([null, "text", 5, { tables: {} }])("should reject the stored schema %j", (doc) => {
    expect(() => Schema.fromDict(doc)).toThrowError(expect.objectContaining({ code: "SCHEMA_INVALID" }));
  });

  it("should reject a schema from a newer engine", () => {
    const doc = { ...new Schema("s").toDict(), engine_version: 12 };
    expect(() => Schema.fromDict(doc)).toThrow(/engine_version 12, newer than this tsdlt supports \(11\)/);
  });

  it("should find root tables and inherit the write disposition", () => {
    const schema = ordersSchema();
    expect(schema.rootTable("orders__items__tags")?.name).toBe("orders");
    expect(schema.rootTable("orders")?.name).toBe("orders");
    expect(schema.rootTable("missing")).toBeUndefined();
    expect(schema.writeDisposition("orders")).toBe("merge");
    expect(schema.writeDisposition("orders__items")).toBe("merge");
    expect(schema.writeDisposition("orders__items__tags")).toBe("merge");
    expect(schema.writeDisposition("customers")).toBe("append");
    expect(schema.writeDisposition("_dlt_loads")).toBe("skip");
  });

  it("should list a table chain parents before children, depth first", () => {
    const schema = ordersSchema();
    expect(schema.tableChain("orders").map((t) => t.name)).toEqual([
      "orders",
      "orders__items",
      "orders__items__tags",
      "orders__payments",
    ]);
    expect(schema.tableChain("orders__items").map((t) => t.name)).toEqual([
      "orders__items",
      "orders__items__tags",
    ]);
    expect(schema.tableChain("missing")).toEqual([]);
  });

  it("should separate data tables from dlt tables and filter by seen data", () => {
    const schema = ordersSchema();
    expect(schema.dataTables().map((t) => t.name)).toEqual([
      "orders",
      "orders__items",
      "orders__items__tags",
      "orders__payments",
      "customers",
    ]);
    schema.updateTable({ name: "customers", columns: {}, "x-normalizer": { "seen-data": true } });
    expect(schema.dataTables(true).map((t) => t.name)).toEqual(["customers"]);
    expect(schema.dltTables().map((t) => t.name)).toEqual(["_dlt_version", "_dlt_loads"]);
  });
});
