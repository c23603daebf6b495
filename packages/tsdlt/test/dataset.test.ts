import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;
let pipeline: dlt.Pipeline;
let loadIds: string[];

/** What the lead's one-line `Pipeline.dataset()` does. */
function datasetOf(p: dlt.Pipeline): dlt.Dataset {
  return dlt.createDataset({
    sqlClient: () => p.sqlClient(),
    schema: p.defaultSchema,
    datasetName: p.datasetName ?? "",
  });
}

const USERS = [
  { id: 1, name: "Alice", score: 9.5, active: true, meta: { team: "a" }, tags: ["x", "y"] },
  { id: 2, name: "Bob", score: 7, active: false, meta: { team: "b" }, tags: [] },
  { id: 3, name: "Carol", score: 8.25, active: true, meta: { team: "a" }, tags: ["z"] },
  { id: 4, name: "O'Hara; DROP TABLE users", score: null, active: true, meta: null, tags: [] },
];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-dataset-"));
  pipeline = dlt.pipeline({
    pipelineName: "ds_test",
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, "ds.duckdb") }),
    datasetName: "mydata",
  });
  const first = await pipeline.run(USERS.slice(0, 2), {
    tableName: "users",
    columns: { meta: { data_type: "json" } },
  });
  const second = await pipeline.run(USERS.slice(2), { tableName: "users" });
  loadIds = [...first.loadsIds, ...second.loadsIds];
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("Dataset", () => {
  it("should read a table with fetchAll, fetchOne and fetchScalar", async () => {
    const ds = datasetOf(pipeline);
    expect(ds.tables).toEqual(["users", "users__tags"]);
    const rows = await ds.table("users").orderBy("id").fetchAll();
    expect(rows.map((r) => r.name)).toEqual(USERS.map((u) => u.name));
    expect(Number(rows[0]?.id)).toBe(1);
    // json columns of a known table come back parsed
    expect(rows[0]?.meta).toEqual({ team: "a" });
    const bob = await ds.table("users").where("id", "eq", 2).fetchOne();
    expect(bob?.name).toBe("Bob");
    expect(await ds.table("users").where("id", "eq", 99).fetchOne()).toBeUndefined();
    expect(Number(await ds.query('SELECT max(id) AS m FROM "mydata"."users"').fetchScalar())).toBe(4);
    expect(await ds.query("SELECT 1 AS x WHERE 1 = 0").fetchScalar()).toBeUndefined();
  });

  it("should select, filter, sort, limit and offset, binding every value as a parameter", async () => {
    const ds = datasetOf(pipeline);
    const rel = ds
      .table<{ id: bigint; name: string; score: number | null; active: boolean }>("users")
      .where("active", "eq", true)
      .where("id", "in", [1, 3, 4])
      .select("id", "name")
      .orderBy("id", "desc")
      .limit(2);
    const { sql, params } = await rel.toQuery();
    expect(sql).toBe(
      'SELECT "id", "name" FROM "mydata"."users" WHERE "active" = $1 AND "id" IN ($2, $3, $4) ORDER BY "id" DESC LIMIT 2',
    );
    expect(params).toEqual([true, 1, 3, 4]);
    const rows = await rel.fetchAll();
    expect(rows).toEqual([
      { id: 4n, name: USERS[3]?.name },
      { id: 3n, name: "Carol" },
    ]);
    expectTypeOf(rows).toEqualTypeOf<{ id: bigint; name: string }[]>();

    // a hostile value is data, not SQL
    const hostile = await ds.table("users").where("name", "eq", USERS[3]?.name).fetchAll();
    expect(hostile).toHaveLength(1);
    expect(await ds.table("users").count()).toBe(4);

    const page = await ds.table("users").select("name").orderBy("id").limit(2).offset(2).fetchAll();
    expect(page.map((r) => r.name)).toEqual(["Carol", USERS[3]?.name]);
    expect(await ds.table("users").where("score", "eq", null).count()).toBe(1);
    expect(await ds.table("users").where("score", "ne", null).count()).toBe(3);
    expect(await ds.table("users").where("score", ">=", 8).count()).toBe(2);
    expect(await ds.table("users").where("id", "not_in", [1, 2]).count()).toBe(2);
    expect(await ds.table("users").where("name", "like", "%o%").count()).toBe(2);
    expect((await ds.table("users").head().fetchAll()).length).toBe(4);
    expect((await ds.table("users").fetchMany(3)).length).toBe(3);
  });

  it("should wrap a SQL query as a subquery when clauses are added, continuing its parameter numbers", async () => {
    const ds = datasetOf(pipeline);
    const rel = ds.query('SELECT id, name FROM "mydata"."users" WHERE id > $1;', [1]).where("id", "lt", 4);
    expect(await rel.toSql()).toBe(
      'SELECT * FROM (SELECT id, name FROM "mydata"."users" WHERE id > $1) AS "_dlt_relation" WHERE "id" < $2',
    );
    const rows = await rel.orderBy("id").fetchAll();
    expect(rows.map((r) => Number(r.id))).toEqual([2, 3]);
    expect(await rel.count()).toBe(2);
  });

  it("should reject unknown tables, columns and operators with a clear message", () => {
    const ds = datasetOf(pipeline);
    expect(() => ds.table("nope")).toThrow(/Table `nope` is not in schema `ds_test`/);
    expect(() => ds.table("users").select("nope" as never)).toThrow(/Column `nope` is not in table `users`/);
    expect(() => ds.table("users").where("id", "between" as never, 1)).toThrow(/Unknown operator `between`/);
    expect(() => ds.table("users").where("id", "in", [])).toThrow(/non-empty array/);
    expect(() => ds.table("users").limit(-1)).toThrow(/non-negative integer/);
  });

  it("should find tables and columns by their source names and return schema names", async () => {
    await pipeline.run([{ UserId: 7, "Display Name": "Zed" }], { tableName: "AppUsers" });
    const ds = datasetOf(pipeline);
    expect(ds.tables).toContain("app_users");
    const rel = ds.table("AppUsers").where("UserId", "eq", 7).select("DisplayName", "user_id");
    expect(await rel.toSql()).toBe(
      'SELECT "display_name", "user_id" FROM "mydata"."app_users" WHERE "user_id" = $1',
    );
    expect(await rel.fetchAll()).toEqual([{ display_name: "Zed", user_id: 7n }]);
    expect(await ds.qualifiedTableName("AppUsers")).toBe('"mydata"."app_users"');
    expect(await ds.rowCounts({ tableNames: ["AppUsers"] }).fetchAll()).toEqual([
      { table_name: "app_users", row_count: 1 },
    ]);
    expect(() => ds.table("AppUsers").where("nope", "eq", 1)).toThrow(
      /Column `nope` is not in table `app_users`/,
    );
  });

  it("should count rows per table and list load ids", async () => {
    const ds = datasetOf(pipeline);
    expect(await ds.rowCounts().fetchAll()).toEqual([
      { table_name: "users", row_count: 4 },
      { table_name: "users__tags", row_count: 3 },
    ]);
    expect(await ds.rowCounts({ tableNames: ["users"], loadId: loadIds[1] as string }).fetchAll()).toEqual([
      { table_name: "users", row_count: 2 },
    ]);
    const withDlt = await ds.rowCounts({ dltTables: true }).fetchAll();
    expect(withDlt.find((r) => r.table_name === "_dlt_loads")?.row_count).toBe(2);
    expect(await ds.loadIds()).toEqual(loadIds);
    expect(await ds.loadIds({ schemaName: "other" })).toEqual([]);
    expect(await ds.latestLoadId()).toBe(loadIds[1]);
  });

  it("should release the database between queries and hold one client after open()", async () => {
    const ds = datasetOf(pipeline);
    expect(await ds.table("users").count()).toBe(4);
    // the pipeline can write to the file again: the dataset closed its client
    await pipeline.run([{ id: 5, name: "Dan", tags: [] }], { tableName: "users" });
    {
      await using held = await datasetOf(pipeline).open();
      expect(await held.table("users").count()).toBe(5);
      expect(await held.qualifiedTableName("users")).toBe('"mydata"."users"');
    }
    await pipeline.run([{ id: 6, name: "Eve", tags: [] }], { tableName: "users" });
    expect(await ds.table("users").count()).toBe(6);
  });

  it("should derive row types from schema column literals", () => {
    const columns = {
      id: { data_type: "bigint", nullable: false },
      name: { data_type: "text" },
      seen: { data_type: "timestamp", nullable: true },
      other: {},
    } as const;
    type User = dlt.RowFromColumns<typeof columns>;
    expectTypeOf<User>().toEqualTypeOf<{
      id: bigint;
      name: string | null;
      seen: Date | null;
      other: unknown;
    }>();
    type FromTable = dlt.RowFromTable<{ columns: typeof columns }>;
    expectTypeOf<FromTable>().toEqualTypeOf<User>();
  });
});

describe("a DuckDB file named like its dataset", () => {
  // DuckDB names the catalog of `ref.duckdb` `ref`: a two-part name `"ref"."users"` is then ambiguous
  // between that catalog and the schema `ref` ("Ambiguous reference to catalog or schema"), so the
  // client qualifies table names with the catalog.
  it("should load, merge, replace, restore state and read with catalog-qualified names", async () => {
    const make = () =>
      dlt.pipeline({
        pipelineName: "ref",
        pipelinesDir: join(root, "pipelines"),
        destination: dlt.destinations.duckdb({ credentials: join(root, "ref.duckdb") }),
        datasetName: "ref",
      });
    const p = make();
    const merge = { tableName: "users", writeDisposition: "merge", primaryKey: "id" } as const;
    await p.run([{ id: 1, name: "a", tags: ["x"] }], merge);
    await p.run(
      [
        { id: 1, name: "a2", tags: ["y", "z"] },
        { id: 2, name: "b", tags: [] },
      ],
      merge,
    );
    const replace = {
      tableName: "events",
      writeDisposition: { disposition: "replace", strategy: "insert-from-staging" },
    } as const;
    await p.run([{ e: 1 }, { e: 2 }], replace);
    await p.run([{ e: 3 }], replace);

    const ds = p.dataset();
    expect(await ds.qualifiedTableName("users")).toBe('"ref"."ref"."users"');
    expect(await ds.table("users").select("id", "name").orderBy("id").fetchAll()).toEqual([
      { id: 1n, name: "a2" },
      { id: 2n, name: "b" },
    ]);
    expect(await ds.rowCounts().fetchAll()).toEqual([
      { table_name: "users", row_count: 2 },
      { table_name: "users__tags", row_count: 2 },
      { table_name: "events", row_count: 1 },
    ]);
    expect(await ds.loadIds()).toHaveLength(4);
    const sql = `SELECT count(*) AS n FROM ${await ds.qualifiedTableName("users__tags")}`;
    expect(await ds.query(sql).fetchScalar()).toBe(2n);

    // the state comes back from the destination when the working folder is gone
    rmSync(join(root, "pipelines"), { recursive: true, force: true });
    const restored = make();
    await restored.syncDestination();
    expect(Object.keys(restored.defaultSchema.tables)).toContain("users__tags");
    expect(await restored.dataset().table("events").fetchScalar()).toBe(3n);
  });

  it("should also read a dataset named like DuckDB's built-in catalogs", async () => {
    const p = dlt.pipeline({
      pipelineName: "temp_pipeline",
      pipelinesDir: join(root, "pipelines"),
      destination: dlt.destinations.duckdb({ credentials: join(root, "catalogs.duckdb") }),
      datasetName: "temp",
    });
    await p.run([{ id: 1 }], { tableName: "t" });
    expect(await p.dataset().qualifiedTableName("t")).toBe('"catalogs"."temp"."t"');
    expect(await p.dataset().table("t").count()).toBe(1);
  });
});

describe("typed rows from the column hints of the load (docs/dataset.md)", () => {
  it("should type and return the rows the hints describe", async () => {
    const columns = {
      id: { data_type: "bigint", nullable: false },
      name: { data_type: "text" },
      seen: { data_type: "timestamp" },
    } as const;
    await pipeline.run([{ id: 1, name: "Ann", seen: "2024-01-02T03:04:05Z" }], {
      tableName: "people",
      columns,
    });
    type Person = dlt.RowFromColumns<typeof columns>;
    const people: Person[] = await datasetOf(pipeline)
      .table<Person>("people")
      .select("id", "name", "seen")
      .fetchAll();
    expectTypeOf(people).toEqualTypeOf<{ id: bigint; name: string | null; seen: Date | null }[]>();
    expect(people).toEqual([{ id: 1n, name: "Ann", seen: new Date("2024-01-02T03:04:05Z") }]);
  });
});
