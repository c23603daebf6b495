import { defineCapabilities, digest128, Schema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { columnNames, createFixture, type Fixture, normalize, rows } from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

describe("relational normalizer: flattening and naming", () => {
  it("should flatten nested dicts in dlt's LIFO column order", async () => {
    const result = await normalize(fixture, [
      { table: "t", batches: [[{ a: { x: 1 }, b: 2, c: { y: 3, d: { z: 4 } } }]] },
    ]);
    expect(columnNames(result.schema, "t")).toEqual([
      "b",
      "c__y",
      "c__d__z",
      "a__x",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    expect(rows(result.package, "t")[0]).toMatchObject({ b: 2, c__y: 3, c__d__z: 4, a__x: 1 });
  });

  it("should normalize camelCase and odd keys", async () => {
    const item = {
      createdAt: 1,
      userID: 2,
      "Some Name!": 3,
      "": 4,
      b: { "": 5, "  ": 6 },
      __init__: 7,
      "Content-Type": 8,
      Résumé: 9,
      "123BaNaNa": 10,
      x__Y: 11,
    };
    const result = await normalize(fixture, [{ table: "Odd Table", batches: [[item]] }]);
    expect(result.schema.tables.odd_table).toBeDefined();
    expect(columnNames(result.schema, "odd_table")).toEqual([
      "created_at",
      "user_id",
      "some_namex",
      "_empty",
      "init",
      "content_type",
      "r_sumx",
      "_123_ba_na_na",
      "x__y",
      "b___empty",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    // two whitespace keys collide on `_empty`: the last value wins
    expect(rows(result.package, "odd_table")[0]).toMatchObject({ b___empty: 6, x__y: 11, _empty: 4 });
  });

  it("should share one column between keys that normalize to the same name", async () => {
    const result = await normalize(fixture, [
      { table: "t", batches: [[{ createdAt: "a", created_at: "b", other: 1 }]] },
    ]);
    expect(columnNames(result.schema, "t")).toEqual(["created_at", "other", "_dlt_load_id", "_dlt_id"]);
    const [row] = rows(result.package, "t");
    expect(Object.keys(row ?? {})).toEqual(["created_at", "other", "_dlt_load_id", "_dlt_id"]);
    expect(row?.created_at).toBe("b");
  });

  it("should shorten identifiers to the destination's maximum length", async () => {
    const caps = defineCapabilities({ maxIdentifierLength: 20, maxColumnIdentifierLength: 63 });
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ "she played cello well": 1, some: { much_longer_name_here: 2 } }]] }],
      undefined,
      { capabilities: caps },
    );
    const names = columnNames(result.schema, "t");
    // the tag is computed from the original key, as in REFERENCE §2.8
    expect(names[0]).toBe("she_plauanpualo_well");
    for (const name of names) expect(name.length).toBeLessThanOrEqual(20);
    expect(names).toHaveLength(4);
  });

  it("should wrap non-object items into a value column", async () => {
    const result = await normalize(fixture, [{ table: "numbers", batches: [[1, 2, "x"]] }]);
    expect(columnNames(result.schema, "numbers")).toEqual([
      "value",
      "_dlt_load_id",
      "_dlt_id",
      "value__v_text",
    ]);
    expect(rows(result.package, "numbers").map((r) => r.value ?? r.value__v_text)).toEqual([1, 2, "x"]);
  });

  it("should keep a _dlt_id brought by the row", async () => {
    const result = await normalize(fixture, [
      { table: "t", batches: [[{ _dlt_id: "my-own-id", n: 1, l: [1] }]] },
    ]);
    const [row] = rows(result.package, "t");
    expect(row?._dlt_id).toBe("my-own-id");
    expect(columnNames(result.schema, "t")).toEqual(["_dlt_id", "n", "_dlt_load_id"]);
    expect(rows(result.package, "t__l")[0]?._dlt_parent_id).toBe("my-own-id");
  });
});

describe("relational normalizer: nested tables", () => {
  it("should compute deterministic ids for nested rows", async () => {
    const item = { _dlt_id: "root1", items: [{ sku: "a", parts: [{ p: 1 }, { p: 2 }] }, { sku: "b" }] };
    const first = await normalize(fixture, [{ table: "orders", batches: [[item]] }]);
    const second = await normalize(fixture, [{ table: "orders", batches: [[item]] }]);
    const items = rows(first.package, "orders__items");
    expect(items).toEqual(rows(second.package, "orders__items"));
    expect(items.map((r) => r._dlt_id)).toEqual([
      digest128("root1_orders__items_0"),
      digest128("root1_orders__items_1"),
    ]);
    const parts = rows(first.package, "orders__items__parts");
    expect(parts).toEqual([
      {
        p: 1,
        _dlt_parent_id: items[0]?._dlt_id,
        _dlt_list_idx: 0,
        _dlt_id: digest128(`${items[0]?._dlt_id}_orders__items__parts_0`),
      },
      {
        p: 2,
        _dlt_parent_id: items[0]?._dlt_id,
        _dlt_list_idx: 1,
        _dlt_id: digest128(`${items[0]?._dlt_id}_orders__items__parts_1`),
      },
    ]);
    expect(first.schema.tables.orders__items__parts?.parent).toBe("orders__items");
    expect(first.schema.tables.orders__items?.parent).toBe("orders");
  });

  it("should write parent rows before their children and name tables after flattened paths", async () => {
    const result = await normalize(fixture, [
      { table: "orders", batches: [[{ id: 1, customer: { addresses: [{ city: "Berlin" }] } }]] },
    ]);
    expect(Object.keys(result.schema.tables)).toEqual([
      "_dlt_version",
      "_dlt_loads",
      "orders",
      "orders__customer__addresses",
    ]);
    expect(rows(result.package, "orders__customer__addresses")[0]).toMatchObject({ city: "Berlin" });
  });

  it("should split lists of lists into intermediary tables", async () => {
    const result = await normalize(fixture, [
      {
        table: "zen",
        batches: [
          [
            { id: 1, webpath: [[1, 2], [3]] },
            { id: 2, webpath: [[[9]]] },
          ],
        ],
      },
    ]);
    const s = result.schema;
    expect(columnNames(s, "zen__webpath")).toEqual(["_dlt_parent_id", "_dlt_list_idx", "_dlt_id"]);
    expect(columnNames(s, "zen__webpath__list")).toEqual([
      "value",
      "_dlt_parent_id",
      "_dlt_list_idx",
      "_dlt_id",
    ]);
    expect(s.tables.zen__webpath__list?.parent).toBe("zen__webpath");
    expect(s.tables.zen__webpath__list__list?.parent).toBe("zen__webpath__list");
    const [zen1, zen2] = rows(result.package, "zen");
    const mid = rows(result.package, "zen__webpath");
    expect(mid.map((r) => [r._dlt_parent_id, r._dlt_list_idx])).toEqual([
      [zen1?._dlt_id, 0],
      [zen1?._dlt_id, 1],
      [zen2?._dlt_id, 0],
    ]);
    const leaves = rows(result.package, "zen__webpath__list");
    expect(leaves.slice(0, 3).map((r) => [r.value, r._dlt_parent_id, r._dlt_list_idx])).toEqual([
      [1, mid[0]?._dlt_id, 0],
      [2, mid[0]?._dlt_id, 1],
      [3, mid[1]?._dlt_id, 0],
    ]);
    expect(rows(result.package, "zen__webpath__list__list")).toEqual([
      expect.objectContaining({ value: 9, _dlt_list_idx: 0 }),
    ]);
  });

  it("should keep dicts and lists as json when max_nesting is 0", async () => {
    const schema = new Schema("shop");
    schema.normalizers.json.config = { max_nesting: 0 };
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ id: 1, a: { b: 1, c: { d: [1, 2] } }, l: [{ x: 1 }, 2] }]] }],
      schema,
    );
    expect(columnNames(result.schema, "t")).toEqual(["id", "a", "l", "_dlt_load_id", "_dlt_id"]);
    expect(result.schema.tables.t?.columns.a?.data_type).toBe("json");
    expect(result.schema.tables.t?.columns.l?.data_type).toBe("json");
    expect(Object.keys(result.schema.tables).filter((t) => t.startsWith("t__"))).toEqual([]);
    expect(rows(result.package, "t")[0]).toMatchObject({ a: { b: 1, c: { d: [1, 2] } }, l: [{ x: 1 }, 2] });
  });

  it("should stop at the nesting level of the root table hint or destination cap", async () => {
    const item = { id: 1, a: { b: { c: 1 } }, l: [{ x: { y: 1 }, m: [1] }] };
    const schema = new Schema("shop");
    schema.updateTable({ name: "t", columns: {}, "x-normalizer": { max_nesting: 1 } });
    const result = await normalize(fixture, [{ table: "t", batches: [[item]] }], schema);
    expect(columnNames(result.schema, "t")).toEqual(["id", "a__b", "_dlt_load_id", "_dlt_id"]);
    expect(result.schema.tables.t?.columns.a__b?.data_type).toBe("json");
    expect(columnNames(result.schema, "t__l")).toEqual([
      "x",
      "m",
      "_dlt_parent_id",
      "_dlt_list_idx",
      "_dlt_id",
    ]);
    expect(result.schema.tables.t__l?.columns.x?.data_type).toBe("json");
    expect(result.schema.tables.t__l?.columns.m?.data_type).toBe("json");
    expect(result.schema.tables.t?.["x-normalizer"]).toEqual({ max_nesting: 1, "seen-data": true });

    const capped = await normalize(fixture, [{ table: "u", batches: [[item]] }], undefined, {
      capabilities: defineCapabilities({ maxTableNesting: 0 }),
    });
    expect(capped.schema.tables.u?.columns.a?.data_type).toBe("json");
  });

  it("should keep values of json-typed and preferred-json columns unflattened", async () => {
    const schema = new Schema("shop");
    schema.settings.preferred_types = { "re:^payload": "json" };
    schema.updateTable({ name: "t", columns: { meta: { name: "meta", data_type: "json", nullable: true } } });
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ meta: { a: [1] }, payload_x: [1, { b: 2 }], other: { c: 1 } }]] }],
      schema,
    );
    expect(columnNames(result.schema, "t")).toEqual([
      "meta",
      "payload_x",
      "other__c",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    expect(rows(result.package, "t")[0]).toMatchObject({ meta: { a: [1] }, payload_x: [1, { b: 2 }] });
  });

  it("should derive root ids from the primary key for upsert tables", async () => {
    const schema = new Schema("shop");
    schema.updateTable({
      name: "t",
      write_disposition: "merge",
      "x-merge-strategy": "upsert",
      columns: { id: { name: "id", nullable: false, primary_key: true } },
    });
    const result = await normalize(
      fixture,
      [
        {
          table: "t",
          batches: [
            [
              { id: 1, v: "a", l: [1] },
              { id: 2, v: "b" },
            ],
          ],
        },
      ],
      schema,
    );
    const out = rows(result.package, "t");
    expect(out.map((r) => r._dlt_id)).toEqual([digest128('{"id":1}'), digest128('{"id":2}')]);
    expect(rows(result.package, "t__l")[0]?._dlt_root_id).toBe(digest128('{"id":1}'));
  });

  it("should derive root ids from the whole item for scd2 tables", async () => {
    const schema = new Schema("shop");
    schema.updateTable({ name: "t", write_disposition: "merge", "x-merge-strategy": "scd2", columns: {} });
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ v: "a", id: 1, n: { z: 1, a: 2 } }]] }],
      schema,
    );
    expect(rows(result.package, "t")[0]?._dlt_id).toBe(digest128('{"id":1,"n":{"a":2,"z":1},"v":"a"}'));
    // scd2 does not propagate the root key by default
    expect(result.schema.normalizers.json.config).toBeUndefined();
  });

  it("should propagate the root key when root_key_propagation is set", async () => {
    const schema = new Schema("shop");
    schema.normalizers.json.config = { root_key_propagation: true };
    const result = await normalize(fixture, [{ table: "t", batches: [[{ l: [{ m: [1] }] }]] }], schema);
    const [root] = rows(result.package, "t");
    expect(rows(result.package, "t__l")[0]?._dlt_root_id).toBe(root?._dlt_id);
    expect(rows(result.package, "t__l__m")[0]?._dlt_root_id).toBe(root?._dlt_id);
    expect(columnNames(result.schema, "t__l__m")).toEqual([
      "value",
      "_dlt_root_id",
      "_dlt_parent_id",
      "_dlt_list_idx",
      "_dlt_id",
    ]);
  });
});
