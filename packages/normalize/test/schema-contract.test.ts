import {
  type ColumnSchema,
  type DataType,
  EVOLVE_ALL,
  expandContract,
  isTsdltError,
  type NormalizeError,
  resolveContract,
  Schema,
  type SchemaContract,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { columnNames, createFixture, type Fixture, normalize, rows } from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

/**
 * A schema whose table `t` already saw data with columns `id` (bigint) and `name` (text), and a
 * nested table `t__items` with `sku` (text); `contract` is the table hint of `t`.
 */
function existingSchema(contract?: SchemaContract, settings?: SchemaContract): Schema {
  const schema = new Schema("shop");
  const col = (name: string, data_type: DataType): ColumnSchema => ({
    name,
    data_type,
    nullable: true,
  });
  const system = {
    _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
    _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
  } as const;
  schema.updateTable({
    name: "t",
    columns: { id: col("id", "bigint"), name: col("name", "text"), ...system },
    write_disposition: "append",
    resource: "t",
    "x-normalizer": { "seen-data": true },
    ...(contract === undefined ? {} : { schema_contract: contract }),
  });
  schema.updateTable({
    name: "t__items",
    parent: "t",
    columns: {
      sku: col("sku", "text"),
      _dlt_parent_id: { name: "_dlt_parent_id", data_type: "text", nullable: false, parent_key: true },
      _dlt_list_idx: { name: "_dlt_list_idx", data_type: "bigint", nullable: false },
      _dlt_id: system._dlt_id,
    },
    "x-normalizer": { "seen-data": true },
  });
  if (settings !== undefined) schema.settings.schema_contract = settings;
  return schema;
}

async function contractError(promise: Promise<unknown>): Promise<NormalizeError> {
  try {
    await promise;
  } catch (error) {
    expect(isTsdltError(error, "SCHEMA_CONTRACT_VIOLATION")).toBe(true);
    return error as NormalizeError;
  }
  throw new Error("expected a schema contract violation");
}

describe("expandContract and resolveContract", () => {
  it("should expand a mode to every entity and fill missing entities with evolve", () => {
    expect(expandContract("freeze")).toEqual({ tables: "freeze", columns: "freeze", data_type: "freeze" });
    expect(expandContract({ columns: "discard_row" })).toEqual({
      tables: "evolve",
      columns: "discard_row",
      data_type: "evolve",
    });
    expect(expandContract(undefined)).toBe(EVOLVE_ALL);
    expect(expandContract("evolve")).toBe(EVOLVE_ALL);
  });

  it("should reject unknown modes and entities", () => {
    expect(() => expandContract("lenient" as SchemaContract)).toThrowError(/mode "lenient"/);
    expect(() => expandContract({ rows: "freeze" } as unknown as SchemaContract)).toThrowError(
      /entity `rows`/,
    );
  });

  it("should take the nearest table hint up the chain, else the schema settings (dlt's precedence)", () => {
    const schema = existingSchema({ columns: "freeze" }, "discard_row");
    // the table hint wins entirely over the settings: unset entities evolve
    expect(resolveContract(schema, "t", undefined)).toEqual({
      tables: "evolve",
      columns: "freeze",
      data_type: "evolve",
    });
    // nested tables inherit from their root, also before they exist
    expect(resolveContract(schema, "t__items", "t").columns).toBe("freeze");
    expect(resolveContract(schema, "t__new", "t").columns).toBe("freeze");
    // a table without a hint in its chain uses the settings
    expect(resolveContract(existingSchema(undefined, "discard_row"), "t", undefined).columns).toBe(
      "discard_row",
    );
    // dlt's own tables always evolve
    expect(resolveContract(schema, "_dlt_pipeline_state", undefined)).toBe(EVOLVE_ALL);
  });
});

describe("schema contracts in normalize", () => {
  it("should fail a new column under `columns: freeze`, naming table, column, entity, mode and type", async () => {
    const error = await contractError(
      normalize(
        fixture,
        [{ table: "t", batches: [[{ id: 1, name: "a", extra: 5 }]] }],
        existingSchema({ columns: "freeze" }),
      ),
    );
    expect(error.table).toBe("t");
    expect(error.column).toBe("extra");
    for (const part of ["`t`", "`extra`", "`columns`", "`freeze`", "`bigint`"])
      expect(error.message).toContain(part);
    // nothing was committed
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
  });

  it("should let columns evolve in a root table that is new in this package (evolve-columns-once)", async () => {
    const schema = new Schema("shop");
    schema.updateTable({
      name: "fresh",
      columns: {},
      write_disposition: "append",
      resource: "fresh",
      schema_contract: { columns: "freeze" },
    });
    const result = await normalize(
      fixture,
      [{ table: "fresh", batches: [[{ id: 1 }, { id: 2, later: "x" }]] }],
      schema,
    );
    expect(columnNames(result.schema, "fresh")).toEqual(["id", "_dlt_load_id", "_dlt_id", "later"]);
    expect(result.schema.tables.fresh?.["x-normalizer"]).toEqual({ "seen-data": true });
  });

  it("should honour and then clear extract's `evolve-columns-once` flag", async () => {
    const schema = existingSchema({ columns: "freeze" });
    schema.tables.t!["x-normalizer"] = { "seen-data": true, "evolve-columns-once": true };
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ id: 1, extra: "ok once" }]] }],
      schema,
    );
    expect(columnNames(result.schema, "t")).toContain("extra");
    expect(result.schema.tables.t?.["x-normalizer"]).toEqual({ "seen-data": true });
  });

  it("should treat a nested table as new only until its first row (as dlt does)", async () => {
    const schema = existingSchema({ columns: "freeze" });
    const items = [{ a: 1 }, { a: 2, b: 3 }];
    const error = await contractError(
      normalize(fixture, [{ table: "t", batches: [[{ id: 1, things: items }]] }], schema),
    );
    expect(error.table).toBe("t__things");
    expect(error.column).toBe("b");
  });

  it("should drop new columns' values with `discard_value`, in nested tables too", async () => {
    const schema = existingSchema({ columns: "discard_value" });
    const result = await normalize(
      fixture,
      [
        {
          table: "t",
          batches: [
            [
              { id: 1, name: "a", extra: 5, items: [{ sku: "x", qty: 2 }] },
              { id: 2, extra: null },
            ],
          ],
        },
      ],
      schema,
    );
    expect(columnNames(result.schema, "t")).not.toContain("extra");
    expect(columnNames(result.schema, "t__items")).not.toContain("qty");
    expect(rows(result.package, "t").map(({ id, name }) => ({ id, name }))).toEqual([
      { id: 1, name: "a" },
      { id: 2, name: undefined },
    ]);
    expect(rows(result.package, "t__items")).toMatchObject([{ sku: "x" }]);
    expect(rows(result.package, "t__items")[0]).not.toHaveProperty("qty");
  });

  it("should drop rows with new columns (and their nested rows) with `discard_row`, also later null ones", async () => {
    const schema = existingSchema({ columns: "discard_row" });
    const result = await normalize(
      fixture,
      [
        {
          table: "t",
          batches: [
            [
              { id: 1, extra: 5, items: [{ sku: "dropped with its parent" }] },
              { id: 2, items: [{ sku: "kept" }, { sku: "dropped", qty: 1 }] },
              { id: 3, extra: null },
              { id: 4, name: null },
            ],
          ],
        },
      ],
      schema,
    );
    expect(rows(result.package, "t").map((r) => r.id)).toEqual([2, 4]);
    expect(rows(result.package, "t__items").map((r) => r.sku)).toEqual(["kept"]);
    expect(columnNames(result.schema, "t")).not.toContain("extra");
  });

  it("should apply `data_type` to variant columns: discard_value, discard_row and freeze", async () => {
    const input = [
      { id: 1, name: "a" },
      { id: "not a number", name: "b" },
      { id: "3", name: "c" },
    ];
    const discardValue = await normalize(
      fixture,
      [{ table: "t", batches: [input] }],
      existingSchema({ data_type: "discard_value" }),
    );
    expect(rows(discardValue.package, "t").map((r) => [r.id, r.name])).toEqual([
      [1, "a"],
      [undefined, "b"],
      [3, "c"],
    ]);
    expect(columnNames(discardValue.schema, "t")).not.toContain("id__v_text");

    const discardRow = await normalize(
      fixture,
      [{ table: "t", batches: [input] }],
      existingSchema({ data_type: "discard_row" }),
    );
    expect(rows(discardRow.package, "t").map((r) => r.name)).toEqual(["a", "c"]);

    const error = await contractError(
      normalize(fixture, [{ table: "t", batches: [input] }], existingSchema({ data_type: "freeze" })),
    );
    expect(error.column).toBe("id__v_text");
    for (const part of ["`id__v_text`", "`id`", "`bigint`", "`text`", "`data_type`", "`freeze`"]) {
      expect(error.message).toContain(part);
    }
  });

  it("should drop a new nested table with `tables: discard_row` and fail it with `tables: freeze`", async () => {
    const input = [{ id: 1, tags: ["a"], name: "root row stays" }];
    const discarded = await normalize(
      fixture,
      [{ table: "t", batches: [input] }],
      existingSchema({ tables: "discard_row" }),
    );
    expect(discarded.schema.tables.t__tags).toBeUndefined();
    expect(rows(discarded.package, "t")).toHaveLength(1);

    const error = await contractError(
      normalize(fixture, [{ table: "t", batches: [input] }], existingSchema({ tables: "freeze" })),
    );
    expect(error.table).toBe("t__tags");
    for (const part of ["`t__tags`", "`tables`", "`freeze`"]) expect(error.message).toContain(part);
  });

  it("should always allow dlt's own columns and data that fits the schema", async () => {
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ id: "2", name: null, items: [{ sku: "x" }] }]] }],
      existingSchema("freeze"),
    );
    expect(rows(result.package, "t")).toMatchObject([{ id: 2 }]);
    expect(rows(result.package, "t__items")).toMatchObject([{ sku: "x", _dlt_list_idx: 0 }]);
  });

  it("should use the settings contract when no table in the chain has one", async () => {
    const error = await contractError(
      normalize(
        fixture,
        [{ table: "t", batches: [[{ id: 1, items: [{ sku: "x", qty: 1 }] }]] }],
        existingSchema(undefined, "freeze"),
      ),
    );
    expect(error.table).toBe("t__items");
    expect(error.column).toBe("qty");
  });

  it("should keep new columns complete in the schema when a contract discards other columns of the row", async () => {
    const schema = existingSchema({ columns: "discard_value", data_type: "evolve" });
    const result = await normalize(fixture, [{ table: "t", batches: [[{ id: "x", extra: 1 }]] }], schema);
    // the variant is a data type change (evolve), the new column is discarded
    expect(columnNames(result.schema, "t")).toContain("id__v_text");
    expect(columnNames(result.schema, "t")).not.toContain("extra");
    expect(rows(result.package, "t")[0]).toMatchObject({ id__v_text: "x" });
  });
});
