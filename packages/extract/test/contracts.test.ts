import { isTsdltError } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { resource } from "../src/index.js";
import {
  extract,
  items,
  jobFiles,
  rejection,
  storageLeftovers,
  storedSchema,
  useFixture,
} from "./helpers.js";

const fixture = useFixture();

/** Adds table `name` with a complete `id` column (a table that has seen data). */
function existingTable(name: string): void {
  fixture.schema.updateTable({
    name,
    columns: { id: { name: "id", data_type: "bigint", nullable: true } },
    write_disposition: "append",
    resource: name,
    "x-normalizer": { "seen-data": true },
  });
}

describe("extractResources: schema contracts (REFERENCE §3.5)", () => {
  it("should drop the items of a new table its contract discards and keep it out of the schema", async () => {
    const data = resource([{ id: 1 }, { id: 2 }], {
      name: "users",
      schemaContract: { tables: "discard_row" },
    });
    const result = await extract(fixture, [data]);

    expect(jobFiles(result.package)).toEqual([]);
    expect(result.itemCounts).toEqual({});
    expect(result.resourceTables).toEqual({ users: [] });
    expect(Object.keys(storedSchema(result.package).tables)).toEqual(["_dlt_version", "_dlt_loads"]);
    expect(fixture.schema.tables.users).toBeUndefined();
  });

  it("should use the schema's setting when the resource has no contract", async () => {
    fixture.schema.settings.schema_contract = { tables: "discard_value" };
    const result = await extract(fixture, [resource([{ id: 1 }], { name: "events" })]);
    expect(jobFiles(result.package)).toEqual([]);
    expect(fixture.schema.tables.events).toBeUndefined();
  });

  it("should keep writing items of a table that already exists", async () => {
    existingTable("users");
    const data = resource([{ id: 1 }], { name: "users", schemaContract: { tables: "discard_row" } });
    const result = await extract(fixture, [data]);
    expect(items(result.package, "users")).toEqual([{ id: 1 }]);
  });

  it("should discard only the new tables of a resource that picks its table per item", async () => {
    existingTable("known");
    const data = resource(
      [
        { id: 1, kind: "known" },
        { id: 2, kind: "fresh" },
        { id: 3, kind: "known" },
      ],
      { name: "mixed", tableName: (row) => String(row.kind), schemaContract: { tables: "discard_row" } },
    );
    const result = await extract(fixture, [data]);
    expect(items(result.package, "known")).toEqual([
      { id: 1, kind: "known" },
      { id: 3, kind: "known" },
    ]);
    expect(result.itemCounts).toEqual({ known: 2 });
    expect(fixture.schema.tables.fresh).toBeUndefined();
  });

  it("should fail on a new table when tables are frozen, naming the table, and commit nothing", async () => {
    const data = resource([{ id: 1 }], { name: "frozen", schemaContract: "freeze" });
    const error = await rejection(extract(fixture, [data]));

    expect(isTsdltError(error, "SCHEMA_CONTRACT_VIOLATION")).toBe(true);
    expect(error).toMatchObject({ table: "frozen" });
    expect((error as Error).message).toContain("`frozen`");
    expect((error as Error).message).toContain("`tables`");
    expect((error as Error).message).toContain("`freeze`");
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should not fail a frozen new table whose resource yields nothing (dlt checks tables on items)", async () => {
    const result = await extract(fixture, [resource([], { name: "quiet", schemaContract: "freeze" })]);
    expect(jobFiles(result.package)).toEqual([]);
    expect(fixture.schema.tables.quiet).toBeUndefined();
  });

  it("should fail when the hints declare a new column of a table whose columns are frozen", async () => {
    existingTable("users");
    const data = resource([{ id: 1, email: "a@b" }], {
      name: "users",
      columns: { email: { data_type: "text" } },
      schemaContract: { columns: "freeze" },
    });
    const error = await rejection(extract(fixture, [data]));
    expect(isTsdltError(error, "SCHEMA_CONTRACT_VIOLATION")).toBe(true);
    expect(error).toMatchObject({ table: "users", column: "email" });
    expect((error as Error).message).toMatch(/`email`.*`users`.*`freeze`.*`columns`/);
  });

  it("should leave out hinted columns and type changes the contract discards, and still write the items", async () => {
    existingTable("users");
    const data = resource([{ id: "7", email: "a@b" }], {
      name: "users",
      columns: { email: { data_type: "text" }, id: { data_type: "text" } },
      schemaContract: { columns: "discard_value", data_type: "discard_row" },
    });
    const result = await extract(fixture, [data]);
    expect(items(result.package, "users")).toEqual([{ id: "7", email: "a@b" }]);
    const users = fixture.schema.tables.users;
    expect(users?.columns.email).toBeUndefined();
    expect(users?.columns.id?.data_type).toBe("bigint");
  });

  it("should fail on a hinted type change of an existing column when data types are frozen", async () => {
    existingTable("users");
    const data = resource([{ id: 1 }], {
      name: "users",
      columns: { id: { data_type: "text" } },
      schemaContract: { data_type: "freeze" },
    });
    const error = await rejection(extract(fixture, [data]));
    expect(error).toMatchObject({ code: "SCHEMA_CONTRACT_VIOLATION", table: "users", column: "id" });
  });

  it("should let a new table take its hinted columns once when its columns are frozen", async () => {
    const data = resource([{ id: 1 }], {
      name: "fresh",
      columns: { id: { data_type: "bigint" } },
      schemaContract: { columns: "freeze" },
    });
    const result = await extract(fixture, [data]);
    const fresh = storedSchema(result.package).tables.fresh;
    expect(fresh?.columns.id).toMatchObject({ data_type: "bigint" });
    expect(fresh?.["x-normalizer"]).toEqual({ "evolve-columns-once": true });
  });
});
