/**
 * Normalizer settings a dlt user writes into a schema file: row `filters` of tables (REFERENCE §2.11),
 * the `relational_no_coercion` json normalizer, and its module check. The same behaviours are
 * compared with dlt itself in packages/tsdlt/test/dlt-reference.test.ts (conf_row_filters,
 * conf_no_coercion).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isTsdltError, RELATIONAL_NO_COERCION_NORMALIZER, Schema, type TableSchema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { columnNames, createFixture, type Fixture, normalize, rows } from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

/** Packages in the load storage, committed or being built (`new/`). */
function loadStorageContent(): string[] {
  const root = fixture.loadStorage.root;
  return ["new", "normalized"].flatMap((state) =>
    existsSync(join(root, state)) ? readdirSync(join(root, state)).map((id) => `${state}/${id}`) : [],
  );
}

function schemaWithTables(...tables: TableSchema[]): Schema {
  const schema = new Schema("shop");
  for (const table of tables) schema.updateTable(table);
  return schema;
}

describe("row filters", () => {
  it("should remove excluded fields unless an include matches, by regex or exact name", async () => {
    const schema = schemaWithTables({
      name: "users",
      columns: {},
      filters: { excludes: ["re:^secret", "meta__debug", "re:password$"], includes: ["re:^secret_ok$"] },
    });
    const item = {
      id: 1,
      secret: "s",
      secret_ok: true,
      secret_key: "k",
      meta: { debug: 1, keep: 2 },
      user_password: "p",
      password_hint: "h",
    };
    const result = await normalize(fixture, [{ table: "users", batches: [[item]] }], schema);
    expect(columnNames(result.schema, "users")).toEqual([
      "id",
      "secret_ok",
      "password_hint",
      "meta__keep",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    expect(rows(result.package, "users")[0]).toMatchObject({ id: 1, secret_ok: true, meta__keep: 2 });
  });

  it("should apply the rules of parent tables to nested rows as paths below them", async () => {
    const schema = schemaWithTables(
      { name: "orders", columns: {}, filters: { excludes: ["re:^items__internal", "re:^audit"] } },
      { name: "orders__items", parent: "orders", columns: {}, filters: { excludes: ["re:^tmp"] } },
    );
    const item = {
      id: 1,
      items: [{ sku: "a", internal: 1, tmp_note: "x", tmp: [1, 2], parts: [{ tmp: 1, p: 2 }] }],
      audit: [{ who: "w" }],
    };
    const result = await normalize(fixture, [{ table: "orders", batches: [[item]] }], schema);
    // `audit` rows lose every field to `re:^audit` (`audit__who`, `audit___dlt_id`, ...): no table;
    // `tmp` rows lose every field to `re:^tmp` of orders__items: no table either
    expect(Object.keys(result.rowCounts).sort()).toEqual(["orders", "orders__items", "orders__items__parts"]);
    expect(columnNames(result.schema, "orders__items")).toEqual([
      "sku",
      "_dlt_parent_id",
      "_dlt_list_idx",
      "_dlt_id",
    ]);
    // `tmp` of a parts row is `parts__tmp` for the rules of orders__items: kept
    expect(rows(result.package, "orders__items__parts")[0]).toMatchObject({ tmp: 1, p: 2 });
  });

  it("should reject an invalid regular expression naming the table", async () => {
    const schema = schemaWithTables({ name: "t", columns: {}, filters: { excludes: ["re:(unclosed"] } });
    const error = await normalize(fixture, [{ table: "t", batches: [[{ a: 1 }]] }], schema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error, "SCHEMA_INVALID")).toBe(true);
    expect((error as Error).message).toContain("`re:(unclosed` in the `filters` of table `t`");
    expect(loadStorageContent()).toEqual([]);
  });
});

describe("relational_no_coercion", () => {
  function noCoercion(): Schema {
    const schema = schemaWithTables({
      name: "t",
      columns: { c: { name: "c", data_type: "timestamp", nullable: true } },
    });
    schema.normalizers.json = { module: RELATIONAL_NO_COERCION_NORMALIZER };
    schema.settings.detections = [];
    return schema;
  }

  it("should send every value of another type than its column's to a variant column", async () => {
    const batch = [
      { n: 1, f: 1.5, s: "a", c: new Date("2024-01-01T00:00:00Z") },
      { n: "2", f: 2, s: 5, c: "2024-01-02T00:00:00Z" },
    ];
    const result = await normalize(fixture, [{ table: "t", batches: [batch] }], noCoercion());
    expect(rows(result.package, "t").map(({ _dlt_id, _dlt_load_id, ...row }) => row)).toEqual([
      { c: "2024-01-01T00:00:00.000Z", n: 1, f: 1.5, s: "a" },
      { n__v_text: "2", f__v_bigint: 2, s__v_bigint: 5, c__v_text: "2024-01-02T00:00:00Z" },
    ]);
  });

  it("should accept the short module name dlt expands", async () => {
    const schema = noCoercion();
    schema.normalizers.json = { module: "relational_no_coercion" };
    const result = await normalize(fixture, [{ table: "t", batches: [[{ c: 5 }]] }], schema);
    expect(rows(result.package, "t")[0]).toMatchObject({ c__v_bigint: 5 });
  });

  it("should fail where a detected type differs from the value's own (dlt crashes there)", async () => {
    const schema = noCoercion();
    schema.settings.detections = ["iso_timestamp"];
    const error = await normalize(
      fixture,
      [{ table: "t", batches: [[{ at: "2024-01-01T00:00:00Z" }]] }],
      schema,
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error, "CANNOT_COERCE_COLUMN")).toBe(true);
    expect(error).toMatchObject({ table: "t", column: "at__v_text" });
    expect((error as Error).message).toContain('"2024-01-01T00:00:00Z"');
  });
});

describe("json normalizer module", () => {
  it("should refuse a module tsdlt does not implement, naming it", async () => {
    const schema = new Schema("shop");
    schema.normalizers.json = { module: "my_company.normalizers.custom" };
    const error = await normalize(fixture, [{ table: "t", batches: [[{ a: 1 }]] }], schema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error, "NOT_IMPLEMENTED")).toBe(true);
    expect((error as Error).message).toContain("`my_company.normalizers.custom`");
    expect(loadStorageContent()).toEqual([]);
  });
});
