import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  defineCapabilities,
  digest128,
  isTsdltError,
  NormalizeError,
  newPipelineState,
  PACKAGE_FILES,
  pipelineStateRow,
  pipelineStateTable,
  Schema,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { normalizePackage } from "../src/index.js";
import {
  capabilities,
  columnNames,
  createFixture,
  extractPackage,
  type Fixture,
  jobFiles,
  normalize,
  rawLines,
  recordingLogger,
  rows,
} from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

describe("normalizePackage", () => {
  it("should normalize the quick start into a users table", async () => {
    const extracted = extractPackage(fixture, [
      {
        table: "users",
        batches: [
          [
            { id: 1, name: "Alice" },
            { id: 2, name: "Bob" },
          ],
        ],
      },
    ]);
    const result = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities });

    const users = result.schema.tables.users;
    expect(columnNames(result.schema, "users")).toEqual(["id", "name", "_dlt_load_id", "_dlt_id"]);
    expect(users?.columns).toEqual({
      id: { name: "id", data_type: "bigint", nullable: true },
      name: { name: "name", data_type: "text", nullable: true },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
    });
    expect(users?.write_disposition).toBe("append");
    expect(users?.resource).toBe("users");
    expect(users?.["x-normalizer"]).toEqual({ "seen-data": true });

    const out = rows(result.package, "users");
    expect(out.map(({ id, name, _dlt_load_id }) => ({ id, name, _dlt_load_id }))).toEqual([
      { id: 1, name: "Alice", _dlt_load_id: extracted.loadId },
      { id: 2, name: "Bob", _dlt_load_id: extracted.loadId },
    ]);
    for (const row of out) expect(row._dlt_id).toMatch(/^[A-Za-z0-9+/]{14}$/);
    expect(out[0]?._dlt_id).not.toBe(out[1]?._dlt_id);
    // keys in the file follow the column order
    expect(Object.keys(out[0] ?? {})).toEqual(["id", "name", "_dlt_load_id", "_dlt_id"]);
    expect(result.rowCounts).toEqual({ users: 2 });
    expect(result.loadId).toBe(extracted.loadId);
  });

  it("should commit the package, write schema, updates and state, and delete the extracted package", async () => {
    const extracted = extractPackage(fixture, [{ table: "users", batches: [[{ id: 1 }]] }]);
    const stateBefore = readFileSync(join(extracted.path, PACKAGE_FILES.packageState), "utf8");
    const result = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities });

    expect(existsSync(extracted.path)).toBe(false);
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([extracted.loadId]);
    expect(result.package.path).toBe(fixture.loadStorage.getPackage("normalized", extracted.loadId)?.path);
    const stored = Schema.fromDict(result.package.readSchemaDoc());
    expect(stored.version).toBe(2);
    expect(stored.versionHash).toBe(result.schema.versionHash);
    expect(stored.previousHashes).toHaveLength(1);
    expect(columnNames(stored, "users")).toEqual(["id", "_dlt_load_id", "_dlt_id"]);
    expect(result.package.readJson(PACKAGE_FILES.schemaUpdates)).toEqual(result.schemaUpdate);
    expect(Object.keys(result.schemaUpdate)).toEqual(["users"]);
    expect(Object.keys(result.schemaUpdate.users?.columns ?? {})).toEqual(["id", "_dlt_load_id", "_dlt_id"]);
    expect(readFileSync(join(result.package.path, PACKAGE_FILES.packageState), "utf8")).toBe(stateBefore);
    const files = readdirSync(join(result.package.path, "new_jobs"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^users\.[0-9a-f]{10}\.0\.jsonl$/);
  });

  it("should normalize the REFERENCE §15 worked example", async () => {
    const schema = new Schema("shop");
    schema.updateTable({
      name: "orders",
      write_disposition: "merge",
      resource: "Orders",
      columns: { id: { name: "id", nullable: false, primary_key: true } },
    });
    const logger = recordingLogger();
    const result = await normalize(
      fixture,
      [
        {
          table: "orders",
          batches: [
            [
              {
                id: 1,
                createdAt: "2024-01-01T10:00:00+02:00",
                user: { "First Name": "Ann", addr: { zip: "10115" } },
                tags: ["a", "b"],
                items: [{ sku: "x", qty: 2 }],
                note: null,
              },
            ],
          ],
        },
      ],
      schema,
      { logger },
    );
    const s = result.schema;
    expect(columnNames(s, "orders")).toEqual([
      "id",
      "created_at",
      "user__first_name",
      "user__addr__zip",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    expect(s.tables.orders?.columns.id).toEqual({
      name: "id",
      data_type: "bigint",
      nullable: false,
      primary_key: true,
    });
    expect(s.tables.orders?.columns.created_at?.data_type).toBe("timestamp");
    expect(s.tables.orders?.columns.user__first_name?.data_type).toBe("text");
    expect(s.tables.orders?.columns.user__addr__zip?.data_type).toBe("text");
    expect(s.tables.orders?.columns.note).toBeUndefined();
    expect(s.tables.orders?.write_disposition).toBe("merge");
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain("`orders`.`note`");

    expect(columnNames(s, "orders__tags")).toEqual([
      "value",
      "_dlt_root_id",
      "_dlt_parent_id",
      "_dlt_list_idx",
      "_dlt_id",
    ]);
    expect(s.tables.orders__tags?.parent).toBe("orders");
    expect(s.tables.orders__tags?.write_disposition).toBeUndefined();
    expect(s.tables.orders__tags?.columns._dlt_root_id).toEqual({
      name: "_dlt_root_id",
      data_type: "text",
      nullable: false,
      root_key: true,
    });
    expect(s.tables.orders__tags?.columns._dlt_parent_id).toEqual({
      name: "_dlt_parent_id",
      data_type: "text",
      nullable: false,
      parent_key: true,
    });
    expect(s.tables.orders__tags?.columns._dlt_list_idx).toEqual({
      name: "_dlt_list_idx",
      data_type: "bigint",
      nullable: false,
    });
    expect(columnNames(s, "orders__items")).toEqual([
      "sku",
      "qty",
      "_dlt_root_id",
      "_dlt_parent_id",
      "_dlt_list_idx",
      "_dlt_id",
    ]);
    expect(s.tables.orders__items?.columns.qty?.data_type).toBe("bigint");
    // delete-insert merge propagates the root row key
    expect(s.normalizers.json.config).toEqual({
      propagation: { tables: { orders: { _dlt_id: "_dlt_root_id" } } },
    });

    const [order] = rows(result.package, "orders");
    expect(order).toMatchObject({
      id: 1,
      created_at: "2024-01-01T08:00:00Z",
      user__first_name: "Ann",
      user__addr__zip: "10115",
    });
    const rootId = order?._dlt_id as string;
    expect(rows(result.package, "orders__tags")).toEqual(
      ["a", "b"].map((value, idx) => ({
        value,
        _dlt_root_id: rootId,
        _dlt_parent_id: rootId,
        _dlt_list_idx: idx,
        _dlt_id: digest128(`${rootId}_orders__tags_${idx}`),
      })),
    );
    expect(rows(result.package, "orders__items")).toEqual([
      {
        sku: "x",
        qty: 2,
        _dlt_root_id: rootId,
        _dlt_parent_id: rootId,
        _dlt_list_idx: 0,
        _dlt_id: digest128(`${rootId}_orders__items_0`),
      },
    ]);
    expect(result.rowCounts).toEqual({ orders: 1, orders__tags: 2, orders__items: 1 });
    for (const table of ["orders", "orders__tags", "orders__items"]) {
      expect(s.tables[table]?.["x-normalizer"]).toEqual({ "seen-data": true });
    }
  });

  it("should normalize pipeline state rows with the system table schema", async () => {
    const schema = new Schema("shop");
    schema.updateTable(pipelineStateTable());
    const state = newPipelineState("shop");
    const created = new Date("2024-05-01T12:00:00.123Z");
    const result = await normalize(
      fixture,
      [
        { table: "_dlt_pipeline_state", batches: [[pipelineStateRow(state, created)]] },
        { table: "users", batches: [[{ id: 1 }]] },
      ],
      schema,
    );
    expect(result.rowCounts).toEqual({ _dlt_pipeline_state: 1, users: 1 });
    expect(columnNames(result.schema, "_dlt_pipeline_state")).toEqual([
      "version",
      "engine_version",
      "pipeline_name",
      "state",
      "created_at",
      "version_hash",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    const [row] = rows(result.package, "_dlt_pipeline_state");
    expect(row).toMatchObject({
      version: 0,
      pipeline_name: "shop",
      created_at: "2024-05-01T12:00:00.123Z",
    });
    expect(typeof row?.state).toBe("string");
    expect(result.schemaUpdate._dlt_pipeline_state?.columns._dlt_id?.data_type).toBe("text");
  });

  it("should not normalize again when the package was already committed (crash recovery)", async () => {
    const first = await normalize(fixture, [{ table: "users", batches: [[{ id: 1 }, { id: 2 }]] }]);
    const linesBefore = rawLines(first.package, "users");
    // the extracted package reappears, as if the process died before deleting it
    const again = extractPackage(
      fixture,
      [{ table: "users", batches: [[{ id: 3 }]] }],
      undefined,
      first.loadId,
    );
    const second = await normalizePackage({
      extracted: again,
      loadStorage: fixture.loadStorage,
      capabilities,
    });

    expect(existsSync(again.path)).toBe(false);
    expect(second.loadId).toBe(first.loadId);
    expect(second.package.path).toBe(first.package.path);
    expect(second.rowCounts).toEqual({});
    expect(second.schemaUpdate).toEqual(first.schemaUpdate);
    expect(second.schema.versionHash).toBe(first.schema.versionHash);
    expect(rawLines(second.package, "users")).toEqual(linesBefore);
  });

  it("should also recognise a package that was already loaded", async () => {
    const first = await normalize(fixture, [{ table: "users", batches: [[{ id: 1 }]] }]);
    fixture.loadStorage.movePackage(first.package, "loaded");
    const again = extractPackage(
      fixture,
      [{ table: "users", batches: [[{ id: 1 }]] }],
      undefined,
      first.loadId,
    );
    const second = await normalizePackage({
      extracted: again,
      loadStorage: fixture.loadStorage,
      capabilities,
    });
    expect(second.package.path).toBe(fixture.loadStorage.getPackage("loaded", first.loadId)?.path);
    expect(existsSync(again.path)).toBe(false);
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
  });

  it("should reject a null in a non-nullable column and keep the extracted package", async () => {
    const schema = new Schema("shop");
    schema.updateTable({
      name: "users",
      columns: { email: { name: "email", data_type: "text", nullable: false } },
    });
    const extracted = extractPackage(
      fixture,
      [{ table: "users", batches: [[{ id: 1, email: "a@b.c" }], [{ id: 2, email: null }]] }],
      schema,
    );
    const error = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NormalizeError);
    expect(isTsdltError(error, "CANNOT_COERCE_NULL")).toBe(true);
    const e = error as NormalizeError;
    expect(e.table).toBe("users");
    expect(e.column).toBe("email");
    expect(e.loadId).toBe(extracted.loadId);
    expect(e.message).toContain("`email`");
    expect(e.message).toContain("`users`");
    expect(e.message).toContain(extracted.loadId);
    expect(e.message).toContain("line 2");
    // nothing committed, no temp output, extracted package intact
    expect(existsSync(extracted.path)).toBe(true);
    expect(jobFilesOf(extracted.path)).toHaveLength(1);
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
    expect(existsSync(join(fixture.loadStorage.root, "new", extracted.loadId))).toBe(false);
  });

  it("should reject a null for a new column matching a not_null hint", async () => {
    const schema = new Schema("shop");
    schema.settings.default_hints?.not_null?.push("re:^e_?mail$");
    const error = await normalize(
      fixture,
      [{ table: "users", batches: [[{ id: 1, eMail: null }]] }],
      schema,
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error, "CANNOT_COERCE_NULL")).toBe(true);
    expect((error as NormalizeError).column).toBe("e_mail");
  });

  it("should fail on a declared non-nullable column that never received data", async () => {
    const schema = new Schema("shop");
    schema.updateTable({
      name: "users",
      columns: { id: { name: "id", nullable: false, primary_key: true } },
    });
    const error = await normalize(fixture, [{ table: "users", batches: [[{ name: "x" }]] }], schema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error)).toBe(true);
    expect((error as NormalizeError).column).toBe("id");
    expect((error as NormalizeError).message).toContain("received no data");
  });

  it("should rotate job files after fileMaxItems rows", async () => {
    const items = Array.from({ length: 5 }, (_, i) => ({ id: i }));
    const result = await normalize(
      fixture,
      [{ table: "users", batches: [items.slice(0, 3), items.slice(3)] }],
      undefined,
      {
        fileMaxItems: 2,
      },
    );
    const files = jobFiles(result.package, "users");
    expect(files).toHaveLength(3);
    expect(files.map((f) => readFileSync(f, "utf8").trimEnd().split("\n").length).sort()).toEqual([1, 2, 2]);
    expect(
      rows(result.package, "users")
        .map((r) => r.id)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
    expect(result.rowCounts).toEqual({ users: 5 });
  });

  it("should stream large files with many lines", async () => {
    const batches = Array.from({ length: 200 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) => ({ id: b * 50 + i, text: "x".repeat(200), nested: { n: i } })),
    );
    const result = await normalize(fixture, [{ table: "events", batches }]);
    expect(result.rowCounts).toEqual({ events: 10_000 });
    const lines = rawLines(result.package, "events");
    expect(lines).toHaveLength(10_000);
    expect(JSON.parse(lines[9999] ?? "{}")).toMatchObject({ id: 9999, nested__n: 49 });
  });

  it("should write long and multi-byte values intact across buffer flushes", async () => {
    const long = "ü€😀".repeat(60_000);
    const items = Array.from({ length: 3000 }, (_, i) => ({ i, text: `名前-${i}-😀-"quoted"\n` }));
    const result = await normalize(fixture, [
      { table: "t", batches: [items.slice(0, 1500), [{ i: -1, text: long }], items.slice(1500)] },
    ]);
    const out = rows(result.package, "t");
    expect(out).toHaveLength(3001);
    expect(out[1500]?.text).toBe(long);
    expect(out.filter((r) => r.i !== -1).map((r) => r.text)).toEqual(items.map((item) => item.text));
  });

  it("should read gzipped job files", async () => {
    const extracted = extractPackage(fixture, []);
    const file = extracted.jobPath("new_jobs", "users.abcdef1234.0.typed-jsonl.gz");
    writeFileSync(
      file,
      gzipSync(`${JSON.stringify([{ id: 1 }, { id: 2 }])}\n${JSON.stringify([{ id: 3 }])}`),
    );
    const result = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities });
    expect(rows(result.package, "users").map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("should name the file and line of invalid JSON", async () => {
    const extracted = extractPackage(fixture, [{ table: "users", batches: [[{ id: 1 }]] }]);
    const [job] = extracted.listJobs("new_jobs");
    appendFileSync(job?.path ?? "", '[{"id": 2}\n');
    const error = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error, "NORMALIZE_FAILED")).toBe(true);
    expect((error as Error).message).toContain(`Line 2 of job file \`${job?.fileName}\``);
    expect((error as NormalizeError).loadId).toBe(extracted.loadId);
    expect(existsSync(extracted.path)).toBe(true);
  });

  it("should refuse formats it does not write (only jsonl and csv)", async () => {
    const extracted = extractPackage(fixture, [{ table: "users", batches: [[{ id: 1 }]] }]);
    const error = await normalizePackage({
      extracted,
      loadStorage: fixture.loadStorage,
      capabilities,
      fileFormat: "parquet",
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error, "NOT_IMPLEMENTED")).toBe(true);
    expect((error as Error).message).toContain("parquet");
    expect(existsSync(extracted.path)).toBe(true);

    const insertValues = defineCapabilities({ preferredLoaderFileFormat: "insert_values" });
    const byDefault = await normalizePackage({
      extracted,
      loadStorage: fixture.loadStorage,
      capabilities: insertValues,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(byDefault, "NOT_IMPLEMENTED")).toBe(true);
    expect((byDefault as Error).message).toContain("insert_values");
  });

  it("should materialize a declared table from an empty job file", async () => {
    const schema = new Schema("shop");
    schema.updateTable({
      name: "users",
      write_disposition: "replace",
      columns: { id: { name: "id", data_type: "bigint", nullable: true } },
    });
    const result = await normalize(fixture, [{ table: "users", batches: [] }], schema);
    const files = jobFiles(result.package, "users");
    expect(files).toHaveLength(1);
    expect(readFileSync(files[0] ?? "", "utf8")).toBe("");
    expect(result.rowCounts).toEqual({ users: 0 });
    expect(columnNames(result.schema, "users")).toEqual(["id", "_dlt_load_id", "_dlt_id"]);
    expect(result.schema.tables.users?.["x-normalizer"]).toEqual({ "seen-data": true });
  });

  it("should report only the new columns of a table that has seen data", async () => {
    const first = await normalize(fixture, [{ table: "users", batches: [[{ id: 1 }]] }]);
    fixture.loadStorage.movePackage(first.package, "loaded");
    const second = await normalize(
      fixture,
      [{ table: "users", batches: [[{ id: 2, name: "x" }]] }],
      first.schema,
    );
    expect(Object.keys(second.schemaUpdate.users?.columns ?? {})).toEqual(["name"]);
    expect(columnNames(second.schema, "users")).toEqual(["id", "_dlt_load_id", "_dlt_id", "name"]);
    expect(second.schema.version).toBe(first.schema.version + 1);
    const third = await normalize(fixture, [{ table: "users", batches: [[{ id: 3 }]] }], second.schema);
    expect(third.schemaUpdate).toEqual({});
    expect(third.schema.version).toBe(second.schema.version);
  });
});

function jobFilesOf(packagePath: string): string[] {
  return readdirSync(join(packagePath, "new_jobs"));
}
