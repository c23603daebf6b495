/**
 * `pipeline.dataset()` and `pipeline.sqlClient()` on the real Postgres server in `TSDLT_POSTGRES_URL`
 * (issue 11). One script loads the same rows (every data type, a nested list, a mixed-case dataset and
 * table name, a column name longer than Postgres' 63-character limit) and calls every dataset method;
 * it runs once on Postgres and once on DuckDB, and the test checks the Postgres results and that both
 * destinations return the same values of the same JavaScript types. The scripts run as plain Node
 * processes (see `node-project.ts`), so the packages must be built first (`npx tsc -b`).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  cleanEnv,
  nodeProject,
  POSTGRES_ENV,
  POSTGRES_URL,
  postgresTitle,
  REPO,
  RESULT_FUNCTION,
  resultOf,
  runNode,
} from "./node-project.js";

/** A source column name longer than Postgres' identifiers may be: the load shortens it to 63 characters. */
const LONG = "a_column_name_long_enough_to_pass_the_postgres_limit_of_sixty_three_characters";

const SCRIPT = `
import * as dlt from "tsdlt";
${RESULT_FUNCTION}
const [kind, suffix] = process.argv.slice(2);
const LONG = ${JSON.stringify(LONG)};
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const destination = kind === "postgres" ? "postgres" : dlt.destinations.duckdb({ credentials: "dataset.duckdb" });
const pipeline = dlt.pipeline({
  pipelineName: "ds_" + suffix, pipelinesDir: "pipelines", destination, datasetName: "MyData_" + suffix, logger: silent,
});

/** Values with their JavaScript type, so the JSON result keeps it. */
function tag(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return { bigint: v.toString() };
  if (v instanceof Date) return { Date: v.toISOString() };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString("hex") };
  if (Array.isArray(v)) return v.map(tag);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tag(x)]));
  return v;
}
/** The JavaScript type each dlt data type must come back as (DataTypeValues in dataset.ts). */
const CHECKS = {
  text: (v) => typeof v === "string", double: (v) => typeof v === "number", bool: (v) => typeof v === "boolean",
  timestamp: (v) => v instanceof Date, bigint: (v) => typeof v === "bigint", binary: (v) => v instanceof Uint8Array,
  json: (v) => typeof v !== "string", decimal: (v) => typeof v === "string", wei: (v) => typeof v === "string",
  date: (v) => typeof v === "string", time: (v) => typeof v === "string",
};
function typeMismatches(rows, table) {
  const out = [];
  for (const row of rows)
    for (const [name, column] of Object.entries(table.columns)) {
      const value = row[name];
      if (!(name in row)) out.push(name + ": missing");
      else if (value !== null && !CHECKS[column.data_type](value)) out.push(name + ": " + column.data_type + " came back as " + typeof value);
    }
  return out;
}
async function error(work) {
  try { await work(); return "no error"; } catch (e) { return e.message; }
}

const columns = { doc: { data_type: "json" }, day: { data_type: "date" }, amount: { data_type: "decimal" }, t: { data_type: "time" } };
const first = await pipeline.run([
  { id: 1, Name: "Alice", big: 9007199254740993n, seen_at: new Date("2024-05-01T10:00:00.123Z"), doc: { a: [1, { b: "x" }] },
    tags: ["x", "y"], [LONG]: 1, score: 1.5, ok: true, day: "2024-02-29", amount: "12.5", bin: new Uint8Array([0, 1, 254, 255]), t: "10:11:12" },
  { id: 2, Name: "Bob", big: 2n, seen_at: new Date("2024-05-02T10:00:00Z"), doc: null, tags: [], [LONG]: 2, score: null, ok: false,
    day: "2024-03-01", amount: "1", bin: null, t: null },
], { tableName: "UsersTable", columns });
const second = await pipeline.run([
  { id: 3, Name: "O'Hara; DROP TABLE users_table", big: -9223372036854775808n, seen_at: new Date("2024-05-03T00:00:00Z"), doc: [1, 2],
    tags: ["z"], [LONG]: 3, score: 8.25, ok: true, day: "2024-03-02", amount: "0.001", bin: new Uint8Array([7]), t: "23:59:59.5" },
], { tableName: "UsersTable" });
const loadIds = [...first.loadsIds, ...second.loadsIds];

const out = {};
const ds = pipeline.dataset();
const schemaTable = pipeline.defaultSchema.getTable("users_table");
out.tables = ds.tables;
out.columns = Object.keys(schemaTable.columns);
out.qualified = await ds.qualifiedTableName("UsersTable");
const all = await ds.table("users_table").orderBy("id").fetchAll();
out.all = tag(all);
out.typeMismatches = typeMismatches(all, schemaTable);
out.bySourceNames = tag(await ds.table("UsersTable").where("Name", "eq", "Bob").select("id", "Name").fetchOne());
out.noRow = (await ds.table("users_table").where("id", "eq", 99).fetchOne()) === undefined;
const page = ds.table("users_table").select("id", "seen_at", "doc").where("id", "in", [1, 2, 3]).orderBy("id", "desc").limit(1).offset(1);
out.pageSql = await page.toSql();
out.page = tag(await page.fetchAll());
out.counts = {
  all: await ds.table("users_table").count(),
  nullScore: await ds.table("users_table").where("score", "eq", null).count(),
  someScore: await ds.table("users_table").where("score", "ne", null).count(),
  afterDate: await ds.table("users_table").where("seen_at", ">", new Date("2024-05-01T12:00:00Z")).count(),
  bigBigint: await ds.table("users_table").where("big", ">", 2n).count(),
  like: await ds.table("users_table").where("name", "like", "%o%").count(),
  notIn: await ds.table("users_table").where("id", "not_in", [1]).count(),
  hostile: await ds.table("users_table").where("name", "eq", "O'Hara; DROP TABLE users_table").count(),
  longBySourceName: await ds.table("users_table").where(LONG, ">=", 2).count(),
  head: (await ds.table("users_table").head(2).fetchAll()).length,
  fetchMany: (await ds.table("users_table").fetchMany(2)).length,
};
out.longColumn = out.columns.find((c) => c.startsWith("a_column_name"));
const users = await ds.qualifiedTableName("users_table");
const query = ds.query("SELECT id, big, seen_at, doc, amount FROM " + users + " WHERE id > $1", [1]).where("id", "lt", 10).orderBy("id");
out.querySql = await query.toSql();
out.query = tag(await query.fetchAll());
out.queryCount = await query.count();
out.scalar = tag(await ds.query("SELECT max(big) AS m FROM " + users).fetchScalar());
out.rowCounts = await ds.rowCounts().fetchAll();
out.rowCountsOfLoad = await ds.rowCounts({ tableNames: ["UsersTable"], loadId: loadIds[1] }).fetchAll();
out.dltRowCounts = await ds.rowCounts({ dataTables: false, dltTables: true }).fetchAll();
out.loadIds = (await ds.loadIds()).join() === loadIds.join();
out.otherSchemaLoadIds = await ds.loadIds({ schemaName: "other" });
out.latestLoadId = (await ds.latestLoadId()) === loadIds[1];
out.errors = {
  table: await error(() => ds.table("nope")),
  column: await error(() => ds.table("users_table").where("nope", "eq", 1)),
  query: await error(() => ds.query("SELECT nope FROM " + users).fetchAll()),
};
// a case-sensitive naming convention: Postgres stores \`UserName\` as \`username\`
process.env.SCHEMA__NAMING = "sql_cs_v1";
const cs = dlt.pipeline({
  pipelineName: "ds_cs_" + suffix, pipelinesDir: "pipelines", destination, datasetName: "CsData_" + suffix, logger: silent,
});
await cs.run([{ UserId: 1, UserName: "Alice" }, { UserId: 2, UserName: "Bob" }], { tableName: "AppUsers" });
delete process.env.SCHEMA__NAMING;
const csDs = cs.dataset();
out.caseSensitive = {
  tables: csDs.tables,
  columns: Object.keys(cs.defaultSchema.getTable("AppUsers").columns),
  rows: tag(await csDs.table("AppUsers").where("UserName", "eq", "Bob").select("UserId", "UserName").fetchAll()),
  sorted: (await csDs.table("AppUsers").orderBy("UserId", "desc").fetchAll()).map((r) => r.UserName),
  qualified: await csDs.qualifiedTableName("AppUsers"),
};
{
  const client = await cs.sqlClient();
  try {
    out.caseSensitive.stored = (await client.query(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
      [client.datasetName, client.casefoldIdentifier("AppUsers")],
    )).map((r) => r.column_name);
    if (kind === "postgres") await client.query("DROP SCHEMA IF EXISTS " + JSON.stringify(client.datasetName) + " CASCADE");
  } finally {
    await client[Symbol.asyncDispose]();
  }
}
// (Node 20 has no \`await using\`: dispose by hand)
const held = await pipeline.dataset().open();
try {
  out.heldCounts = [await held.table("users_table__tags").count(), await held.table("users_table").count()];
} finally {
  await held[Symbol.asyncDispose]();
}
const client = await pipeline.sqlClient();
try {
  out.sqlClient = {
    datasetName: client.datasetName,
    qualified: client.qualifiedTableName("users_table__tags"),
    rows: tag(await client.query("SELECT value FROM " + client.qualifiedTableName("users_table__tags") + " ORDER BY value")),
    schemas: (await client.query("SELECT schema_name FROM information_schema.schemata WHERE schema_name = $1", [client.datasetName])).length,
  };
  if (kind === "postgres") {
    for (const name of [client.datasetName, client.datasetName + "_staging"]) await client.query("DROP SCHEMA IF EXISTS " + JSON.stringify(name) + " CASCADE");
  }
} finally {
  await client[Symbol.asyncDispose]();
}
result(out);
`;

type Tagged = Record<string, unknown>;
interface Out {
  tables: string[];
  columns: string[];
  qualified: string;
  all: Tagged[];
  typeMismatches: string[];
  bySourceNames: Tagged;
  noRow: boolean;
  pageSql: string;
  page: Tagged[];
  counts: Record<string, number>;
  longColumn: string;
  querySql: string;
  query: Tagged[];
  queryCount: number;
  scalar: unknown;
  rowCounts: { table_name: string; row_count: number }[];
  rowCountsOfLoad: { table_name: string; row_count: number }[];
  dltRowCounts: { table_name: string; row_count: number }[];
  loadIds: boolean;
  otherSchemaLoadIds: string[];
  latestLoadId: boolean;
  heldCounts: number[];
  sqlClient: { datasetName: string; qualified: string; rows: Tagged[]; schemas: number };
  errors: Record<string, string>;
  caseSensitive: {
    tables: string[];
    columns: string[];
    rows: Tagged[];
    sorted: string[];
    qualified: string;
    stored: string[];
  };
}

/** `out` without what legitimately differs between destinations: random ids, the long column's name. */
function comparable(out: Out): unknown {
  const row = (r: Tagged) => {
    const { _dlt_id: _id, _dlt_load_id: _load, ...rest } = r;
    return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k === out.longColumn ? "LONG" : k, v]));
  };
  const { longColumn: _l, columns, errors, all, sqlClient, query, caseSensitive, ...rest } = out;
  return {
    ...rest,
    columns: columns.map((c) => (c === out.longColumn ? "LONG" : c)),
    all: all.map(row),
    // JSON text of SQL results is the database's own: Postgres' jsonb writes `[1, 2]`, DuckDB `[1,2]`
    query: query.map((r) => ({ ...r, doc: typeof r.doc === "string" ? JSON.parse(r.doc) : r.doc })),
    sqlClient: { ...sqlClient, datasetName: undefined },
    // the database's own message for an unknown column differs
    errors: { ...errors, column: errors.column?.replace(out.longColumn, "LONG"), query: undefined },
  };
}

describe.skipIf(!POSTGRES_URL)(postgresTitle("the dataset API on Postgres"), () => {
  let root: string;
  let suffix: string;
  let pg: Out;
  let duck: Out;

  beforeAll(async () => {
    assertBuilt([join(REPO, "packages/destination-postgres/dist/index.js")]);
    root = mkdtempSync(join(tmpdir(), "tsdlt-dataset-pg-"));
    suffix = randomBytes(3).toString("hex");
    const linked = ["tsdlt", "@tsdlt/destination-postgres"];
    const pgDir = nodeProject(join(root, "pg"), linked, { "dataset.mjs": SCRIPT });
    const duckDir = nodeProject(join(root, "duck"), linked, { "dataset.mjs": SCRIPT });
    const [onPg, onDuck] = await Promise.all([
      runNode(pgDir, ["dataset.mjs", "postgres", suffix], cleanEnv(pgDir, POSTGRES_ENV)),
      runNode(duckDir, ["dataset.mjs", "duckdb", suffix], cleanEnv(duckDir)),
    ]);
    pg = resultOf<Out>(onPg);
    duck = resultOf<Out>(onDuck);
    expect(onPg.stderr).toBe("");
  }, 120_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("should read the normalized dataset and tables, with the long column shortened to 63 characters", () => {
    const dataset = `my_data_${suffix}`;
    expect(pg.tables).toEqual(["users_table", "users_table__tags"]);
    expect(pg.qualified).toBe(`"${dataset}"."users_table"`);
    expect(pg.sqlClient.datasetName).toBe(dataset);
    expect(pg.sqlClient.qualified).toBe(`"${dataset}"."users_table__tags"`);
    expect(pg.sqlClient.schemas).toBe(1);
    expect(pg.longColumn).toHaveLength(63);
    expect(pg.longColumn).not.toBe(LONG);
    expect(duck.longColumn).toBe(LONG);
    expect(pg.counts.longBySourceName).toBe(2);
  });

  it("should return every data type as the same JavaScript value as DuckDB", () => {
    expect(pg.typeMismatches).toEqual([]);
    expect(duck.typeMismatches).toEqual([]);
    const alice = pg.all[0];
    expect(alice).toMatchObject({
      id: { bigint: "1" },
      name: "Alice",
      big: { bigint: "9007199254740993" },
      seen_at: { Date: "2024-05-01T10:00:00.123Z" },
      doc: { a: [1, { b: "x" }] },
      score: 1.5,
      ok: true,
      day: "2024-02-29",
      amount: "12.500000000",
      bin: { bytes: "0001feff" },
      t: "10:11:12",
      [pg.longColumn]: { bigint: "1" },
    });
    expect(pg.all[2]).toMatchObject({
      big: { bigint: "-9223372036854775808" },
      doc: [1, 2],
      t: "23:59:59.5",
    });
    expect(comparable(pg)).toEqual(comparable(duck));
  });

  it("should filter, select, sort and page with bound parameters", () => {
    expect(pg.bySourceNames).toEqual({ id: { bigint: "2" }, name: "Bob" });
    expect(pg.noRow).toBe(true);
    expect(pg.pageSql).toBe(
      `SELECT "id", "seen_at", "doc" FROM "my_data_${suffix}"."users_table" WHERE "id" IN ($1, $2, $3) ORDER BY "id" DESC LIMIT 1 OFFSET 1`,
    );
    expect(pg.page).toEqual([
      { id: { bigint: "2" }, seen_at: { Date: "2024-05-02T10:00:00.000Z" }, doc: null },
    ]);
    expect(pg.counts).toEqual({
      all: 3,
      nullScore: 1,
      someScore: 2,
      afterDate: 2,
      bigBigint: 1,
      like: 1, // LIKE is case-sensitive on both
      notIn: 2,
      hostile: 1,
      longBySourceName: 2,
      head: 2,
      fetchMany: 2,
    });
  });

  it("should run SQL queries, wrapped when clauses are added", () => {
    expect(pg.querySql).toBe(
      `SELECT * FROM (SELECT id, big, seen_at, doc, amount FROM "my_data_${suffix}"."users_table" WHERE id > $1) AS "_dlt_relation" WHERE "id" < $2 ORDER BY "id" ASC`,
    );
    // JSON stays text in SQL results (only schema tables are parsed), on both destinations
    expect(pg.query).toEqual([
      {
        id: { bigint: "2" },
        big: { bigint: "2" },
        seen_at: { Date: "2024-05-02T10:00:00.000Z" },
        doc: null,
        amount: "1.000000000",
      },
      {
        id: { bigint: "3" },
        big: { bigint: "-9223372036854775808" },
        seen_at: { Date: "2024-05-03T00:00:00.000Z" },
        doc: expect.stringMatching(/^\[1, ?2\]$/),
        amount: "0.001000000",
      },
    ]);
    expect(pg.queryCount).toBe(2);
    expect(pg.scalar).toEqual({ bigint: "9007199254740993" });
    expect(pg.sqlClient.rows).toEqual([{ value: "x" }, { value: "y" }, { value: "z" }]);
  });

  it("should count rows per table and list the load ids", () => {
    expect(pg.rowCounts).toEqual([
      { table_name: "users_table", row_count: 3 },
      { table_name: "users_table__tags", row_count: 3 },
    ]);
    expect(pg.rowCountsOfLoad).toEqual([{ table_name: "users_table", row_count: 1 }]);
    expect(pg.dltRowCounts).toEqual([
      { table_name: "_dlt_version", row_count: 1 },
      { table_name: "_dlt_loads", row_count: 2 },
      { table_name: "_dlt_pipeline_state", row_count: 1 },
    ]);
    expect(pg.loadIds).toBe(true);
    expect(pg.otherSchemaLoadIds).toEqual([]);
    expect(pg.latestLoadId).toBe(true);
    expect(pg.heldCounts).toEqual([3, 3]);
  });

  it("should quote schema columns as Postgres stores them and key rows by schema names (case-sensitive naming)", () => {
    const { stored, qualified, ...rest } = pg.caseSensitive;
    expect(rest).toEqual({
      tables: ["AppUsers"],
      columns: ["UserId", "UserName", "_dlt_load_id", "_dlt_id"],
      rows: [{ UserId: { bigint: "2" }, UserName: "Bob" }],
      sorted: ["Bob", "Alice"],
    });
    expect(stored).toEqual(["userid", "username", "_dlt_load_id", "_dlt_id"]);
    expect(qualified).toBe(`"csdata_${suffix}"."appusers"`);
    // DuckDB keeps the case: same rows
    const { stored: _s, qualified: duckQualified, ...duckRest } = duck.caseSensitive;
    expect(duckRest).toEqual(rest);
    expect(duckQualified).toBe(`"CsData_${suffix}"."AppUsers"`);
  });

  it("should name what is wrong", () => {
    expect(pg.errors.table).toMatch(/^Table `nope` is not in schema `ds_[0-9a-f]+`\. Tables: .*users_table/);
    expect(pg.errors.column).toMatch(/^Column `nope` is not in table `users_table`\. Columns: .*name/);
    expect(pg.errors.query).toMatch(/\[postgres\] Query failed terminally: column "nope" does not exist/);
  });
});
