import { isTsdltError, Schema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { columnNames, createFixture, type Fixture, normalize, rows } from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

const item = { Id: 1, "User Name": { "First\nName": "a", x__y: 1 }, Items: [{ SKU: "x" }], "a'b": 2 };

describe("naming conventions in normalize", () => {
  it("should use the schema's `direct` convention: keys kept, paths joined with ▶", async () => {
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[item]] }],
      new Schema("shop", { naming: "direct" }),
    );
    expect(columnNames(result.schema, "t")).toEqual([
      "Id",
      "a_b",
      "User Name▶First_Name",
      "User Name▶x__y",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    expect(Object.keys(result.schema.tables)).toContain("t▶Items");
    expect(rows(result.package, "t▶Items")).toMatchObject([{ SKU: "x", _dlt_list_idx: 0 }]);
  });

  it("should use the schema's `duck_case` convention: case kept, __ paths", async () => {
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[item]] }],
      new Schema("shop", { naming: "duck_case" }),
    );
    expect(columnNames(result.schema, "t")).toEqual([
      "Id",
      "a'b",
      "User Name__First_Name",
      "User Name__x__y",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    expect(Object.keys(result.schema.tables)).toContain("t__Items");
  });

  it("should make variant column names with the convention's separator", async () => {
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ n: 1 }, { n: "x" }]] }],
      new Schema("shop", { naming: "direct" }),
    );
    expect(columnNames(result.schema, "t")).toContain("n▶v_text");
  });

  it("should fail with NOT_IMPLEMENTED for a naming convention tsdlt does not have", async () => {
    try {
      await normalize(
        fixture,
        [{ table: "t", batches: [[{ a: 1 }]] }],
        new Schema("shop", { naming: "my.module" }),
      );
      expect.unreachable();
    } catch (error) {
      expect(isTsdltError(error, "NOT_IMPLEMENTED")).toBe(true);
      expect((error as Error).message).toMatch(/`my\.module`/);
    }
  });

  it("should not break keys into paths when `use_break_path_on_normalize` is false", async () => {
    const schema = new Schema("shop");
    schema.normalizers.use_break_path_on_normalize = false;
    const result = await normalize(fixture, [{ table: "t", batches: [[{ a__b: 1, __init__: 2 }]] }], schema);
    expect(columnNames(result.schema, "t")).toEqual(["a_b", "_initxx", "_dlt_load_id", "_dlt_id"]);
  });
});

describe("keys without a name", () => {
  it("should fail on a top-level key made only of separators, naming table and key", async () => {
    try {
      await normalize(fixture, [{ table: "t", batches: [[{ id: 1, ____: 5 }]] }]);
      expect.unreachable();
    } catch (error) {
      expect(isTsdltError(error, "IDENTIFIER_INVALID")).toBe(true);
      expect((error as Error).message).toContain('"____"');
      expect((error as Error).message).toContain("`t`");
    }
  });

  it("should put a nested separator-only key on its parent's column, as dlt does", async () => {
    const result = await normalize(fixture, [
      { table: "t", batches: [[{ id: 1, x: { " __ ": 3, "  ": 4 } }]] },
    ]);
    expect(columnNames(result.schema, "t")).toEqual(["id", "x", "x___empty", "_dlt_load_id", "_dlt_id"]);
    expect(rows(result.package, "t")[0]).toMatchObject({ x: 3, x___empty: 4 });
  });

  it("should send a list under a blank key to the parent table's path, as dlt does", async () => {
    const result = await normalize(fixture, [{ table: "t", batches: [[{ id: 1, x: { "": [7] } }]] }]);
    expect(rows(result.package, "t__x")).toMatchObject([{ value: 7, _dlt_list_idx: 0 }]);
  });
});
