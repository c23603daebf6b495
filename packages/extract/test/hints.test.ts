import { ExtractError, isTsdltError } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { resource } from "../src/index.js";
import { extract, items, rejection, storageLeftovers, storedSchema, useFixture } from "./helpers.js";

const fixture = useFixture();

describe("write disposition object form (REFERENCE §4.3)", () => {
  it("should store merge strategy and deduplication as table hints", async () => {
    const res = resource([{ id: 1 }], {
      name: "orders",
      primaryKey: "id",
      writeDisposition: { disposition: "merge", strategy: "delete-insert", deduplicated: true },
    });
    const table = storedSchema((await extract(fixture, [res])).package).tables.orders;
    expect(table).toMatchObject({
      write_disposition: "merge",
      "x-merge-strategy": "delete-insert",
      "x-stage-data-deduplicated": true,
    });
  });

  it("should leave the strategy to the destination when the object names none", async () => {
    const res = resource([{ id: 1 }], { name: "t", writeDisposition: { disposition: "merge" } });
    const table = storedSchema((await extract(fixture, [res])).package).tables.t;
    expect(table?.write_disposition).toBe("merge");
    expect(table?.["x-merge-strategy"]).toBeUndefined();
  });

  it("should add scd2 validity and row version columns with dlt's hints", async () => {
    const res = resource([{ id: 1 }], {
      name: "customers",
      writeDisposition: { disposition: "merge", strategy: "scd2" },
    });
    const table = storedSchema((await extract(fixture, [res])).package).tables.customers;
    expect(table?.["x-merge-strategy"]).toBe("scd2");
    expect(table?.columns).toEqual({
      _dlt_valid_from: {
        name: "_dlt_valid_from",
        data_type: "timestamp",
        nullable: true,
        "x-valid-from": true,
      },
      _dlt_valid_to: { name: "_dlt_valid_to", data_type: "timestamp", nullable: true, "x-valid-to": true },
      _dlt_id: { name: "_dlt_id", nullable: false, "x-row-version": true, unique: false, row_key: false },
    });
  });

  it("should apply custom scd2 names, the active record and boundary timestamps", async () => {
    const res = resource([{ id: 1 }], {
      name: "customers",
      mergeKey: "id",
      writeDisposition: {
        disposition: "merge",
        strategy: "scd2",
        validityColumnNames: ["ValidFrom", "ValidTo"],
        activeRecordTimestamp: "9999-12-31",
        rowVersionColumnName: "RowHash",
        boundaryTimestamp: new Date("2024-01-02T03:04:05Z"),
      },
    });
    const table = storedSchema((await extract(fixture, [res])).package).tables.customers;
    expect(table?.["x-boundary-timestamp"]).toBe("2024-01-02T03:04:05.000Z");
    expect(table?.columns.valid_from).toMatchObject({ "x-valid-from": true, data_type: "timestamp" });
    expect(table?.columns.valid_to).toMatchObject({
      "x-valid-to": true,
      "x-active-record-timestamp": "9999-12-31",
    });
    expect(table?.columns.row_hash).toEqual({
      name: "row_hash",
      nullable: false,
      "x-row-version": true,
      unique: false,
      row_key: false,
    });
    expect(table?.columns.id).toEqual({ name: "id", merge_key: true, nullable: false });
  });

  it("should store a replace strategy as x-replace-strategy", async () => {
    const res = resource([{ id: 1 }], {
      name: "t",
      writeDisposition: { disposition: "replace", strategy: "insert-from-staging" },
    });
    const table = storedSchema((await extract(fixture, [res])).package).tables.t;
    expect(table).toMatchObject({
      write_disposition: "replace",
      "x-replace-strategy": "insert-from-staging",
    });
  });
});

describe("other table hints", () => {
  it("should map schemaContract, fileFormat, tableFormat and maxTableNesting", async () => {
    const res = resource([{ id: 1 }], {
      name: "t",
      schemaContract: { columns: "freeze" },
      fileFormat: "parquet",
      tableFormat: "delta",
      maxTableNesting: 0,
    });
    const table = storedSchema((await extract(fixture, [res])).package).tables.t;
    expect(table).toMatchObject({
      schema_contract: { columns: "freeze" },
      file_format: "parquet",
      table_format: "delta",
      "x-normalizer": { max_nesting: 0 },
    });
  });

  it("should let primaryKey replace key hints in columns and keep an explicit nullable", async () => {
    const res = resource([{ a: 1 }], {
      name: "t",
      primaryKey: ["a", "b"],
      columns: { old: { primary_key: true }, b: { nullable: true } },
    });
    const table = storedSchema((await extract(fixture, [res])).package).tables.t;
    expect(table?.columns).toEqual({
      old: { name: "old" },
      a: { name: "a", primary_key: true, nullable: false },
      b: { name: "b", primary_key: true, nullable: true },
    });
  });
});

describe("two resources, one table", () => {
  it("should fail naming both resources, the table and the differing hint", async () => {
    const a = resource([{ id: 1 }], {
      name: "a",
      tableName: "users",
      writeDisposition: "merge",
      primaryKey: "id",
    });
    const b = resource([{ id: 2 }], { name: "b", tableName: "users" });
    const error = await rejection(extract(fixture, [a, b]));
    expect(error).toBeInstanceOf(ExtractError);
    expect(isTsdltError(error, "INVALID_ARGUMENT")).toBe(true);
    expect((error as ExtractError).table).toBe("users");
    expect(error.message).toBe(
      'Resources `a` and `b` both load table `users` with different hints: `write_disposition` is "merge" in `a` but "append" in `b`. Give them the same hints or different table names (tableName).',
    );
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should name differing key columns", async () => {
    const a = resource([{ id: 1 }], { name: "a", tableName: "users", primaryKey: "id" });
    const b = resource([{ id: 2 }], { name: "b", tableName: "users", primaryKey: "email" });
    const error = await rejection(extract(fixture, [a, b]));
    expect(error.message).toMatch(/primary_key columns is \["id"\] in `a` but \["email"\] in `b`/);
  });

  it("should detect conflicts on tables chosen by a tableName function", async () => {
    const a = resource([{ id: 1, kind: "x" }], { name: "a", tableName: (i) => String(i.kind) });
    const b = resource([{ id: 2 }], { name: "b", tableName: "x", writeDisposition: "replace" });
    const error = await rejection(extract(fixture, [a, b]));
    expect(error.message).toMatch(/Resources `b` and `a` both load table `x`/);
  });

  it("should load both when their hints agree", async () => {
    const a = resource([{ id: 1 }], { name: "a", tableName: "users", primaryKey: "id" });
    const b = resource([{ id: 2 }], {
      name: "b",
      tableName: "users",
      primaryKey: "id",
      columns: { x: { data_type: "text" } },
    });
    const { package: pkg, itemCounts } = await extract(fixture, [a, b]);
    expect(itemCounts.users).toBe(2);
    expect(items(pkg, "users")).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("should fail when a tableName function returns no name or gets a non-object", async () => {
    const empty = resource([{ id: 1 }], { name: "router", tableName: () => "" });
    expect((await rejection(extract(fixture, [empty]))).message).toMatch(
      /Resource `router`: its tableName function returned "" \(string\)/,
    );
    const scalar = resource([1], { name: "router", tableName: () => "t" });
    expect((await rejection(extract(fixture, [scalar]))).message).toMatch(
      /Resource `router` yielded 1 \(number\) as an item, but its tableName function needs objects/,
    );
  });
});
