/**
 * `refresh` (REFERENCE §6.6) on real DuckDB files: what each mode drops or empties in the destination,
 * what it removes from the schema and the state, and that the drop commits with the new rows — a run
 * whose load fails leaves the old tables in place and the next run finishes it. The expected values
 * were taken from the same scenarios run with Python dlt 1.26.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-refresh-"));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function newPipeline(name: string, options: Partial<dlt.PipelineOptions> = {}): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
    datasetName: "ds",
    ...options,
  });
}

/** Row count of `table` in dataset `ds`, or `undefined` when the table does not exist. */
async function count(p: dlt.Pipeline, table: string): Promise<number | undefined> {
  const exists = await p.query(
    "SELECT 1 FROM information_schema.tables WHERE table_schema = 'ds' AND table_name = $1",
    [table],
  );
  if (exists.length === 0) return undefined;
  const [row] = await p.query(`SELECT count(*)::INT AS n FROM ds.${table}`);
  return row?.n as number;
}

async function counts(
  p: dlt.Pipeline,
  tables: readonly string[],
): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const t of tables) out[t] = await count(p, t);
  return out;
}

/** Data tables of the pipeline's live schema, sorted. */
function schemaTables(p: dlt.Pipeline): string[] {
  return p.defaultSchema
    .dataTables()
    .map((t) => t.name)
    .sort();
}

/**
 * The source of the dlt experiment: `a` (append, incremental on `id`, nested `kids`, resource state)
 * and `b` (sets a source-level state key). `seen` records the incremental start `a` saw.
 */
function mysrc(nA: number, nB: number, seen: unknown[] = []): dlt.DltSource {
  return dlt.source(
    function* mysrc() {
      yield dlt.resource(
        function* a(cursor = dlt.sources.incremental<number>("id")) {
          seen.push(cursor.lastValue);
          dlt.current.resourceState().x = 1;
          for (let i = 0; i < nA; i++) yield { id: i, kids: [{ k: i }] };
        },
        { name: "a" },
      );
      yield dlt.resource(
        function* b() {
          dlt.current.sourceState().src_key = "v";
          for (let i = 0; i < nB; i++) yield { id: i };
        },
        { name: "b" },
      );
    },
    { name: "mysrc" },
  )();
}

const TABLES = ["a", "a__kids", "b"] as const;

async function versions(p: dlt.Pipeline): Promise<number[]> {
  const rows = await p.query("SELECT version::INT AS v FROM ds._dlt_version ORDER BY inserted_at");
  return rows.map((r) => r.v as number);
}

describe("refresh", () => {
  it("should drop every table and the whole source state with drop_sources (b deselected)", async () => {
    const p = newPipeline("sources");
    await p.run(mysrc(3, 2));
    expect(p.state.sources?.mysrc).toMatchObject({ src_key: "v", resources: { a: { x: 1 } } });
    const seen: unknown[] = [];
    const info = await p.run(mysrc(5, 2, seen).withoutResources("b"), { refresh: "drop_sources" });
    // the cursor was reset: `a` starts over and loads all five rows
    expect(seen).toEqual([undefined]);
    expect(await counts(p, TABLES)).toEqual({ a: 5, a__kids: 5, b: undefined });
    expect(schemaTables(p)).toEqual(["a", "a__kids"]);
    const source = p.state.sources?.mysrc;
    expect(source?.src_key).toBeUndefined();
    expect(source?.resources?.a).toMatchObject({ x: 1, incremental: { id: { last_value: 4 } } });
    // dlt: a new schema (version 2 after extract + normalize) whose old versions are gone
    expect(await versions(p)).toEqual([p.defaultSchema.version]);
    const pkg = p.getLoadPackageInfo(info.loadsIds.at(-1) as string);
    expect(pkg?.state).toBe("loaded");
  });

  it("should leave other sources' tables, state and schema versions alone with drop_sources", async () => {
    const p = newPipeline("two_sources");
    const other = dlt.source(
      function* other() {
        yield dlt.resource(
          function* c() {
            dlt.current.sourceState().other_key = 1;
            yield { id: 1 };
          },
          { name: "c" },
        );
      },
      { name: "other" },
    );
    await p.run(mysrc(3, 2));
    await p.run(other());
    await p.run(mysrc(1, 1), { refresh: "drop_sources" });
    expect(await counts(p, [...TABLES, "c"])).toEqual({ a: 1, a__kids: 1, b: 1, c: 1 });
    expect(p.state.sources?.other).toEqual({ other_key: 1 });
    expect(p.state.schema_names).toEqual(["mysrc", "other"]);
    const stored = await p.query(
      "SELECT schema_name, count(*)::INT AS n FROM ds._dlt_version GROUP BY 1 ORDER BY 1",
    );
    expect(stored).toEqual([
      { schema_name: "mysrc", n: 1 },
      { schema_name: "other", n: 1 },
    ]);
  });

  it("should keep the source-level state when drop_sources reruns every resource", async () => {
    const p = newPipeline("sources_all");
    await p.run(mysrc(3, 2));
    await p.run(mysrc(5, 2), { refresh: "drop_sources" });
    expect(await counts(p, TABLES)).toEqual({ a: 5, a__kids: 5, b: 2 });
    expect(p.state.sources?.mysrc?.src_key).toBe("v");
  });

  it("should drop only the extracted resources' tables and state with drop_resources", async () => {
    const p = newPipeline("resources");
    await p.run(mysrc(3, 2));
    const before = p.defaultSchema.version;
    await p.run(mysrc(5, 2).withoutResources("b"), { refresh: "drop_resources" });
    expect(await counts(p, TABLES)).toEqual({ a: 5, a__kids: 5, b: 2 });
    expect(schemaTables(p)).toEqual(["a", "a__kids", "b"]);
    // the source-level state stays; `a`'s state was reset and written again by this run
    expect(p.state.sources?.mysrc?.src_key).toBe("v");
    expect(p.state.sources?.mysrc?.resources?.a).toMatchObject({ incremental: { id: { last_value: 4 } } });
    // the schema history is erased: only the newest version is stored
    expect(p.defaultSchema.version).toBeGreaterThan(before);
    expect(await versions(p)).toEqual([p.defaultSchema.version]);
  });

  it("should drop the tables of resources that yield nothing and not create them again", async () => {
    const p = newPipeline("resources_empty");
    await p.run(mysrc(3, 2));
    await p.run(mysrc(0, 0), { refresh: "drop_resources" });
    expect(await counts(p, TABLES)).toEqual({ a: undefined, a__kids: undefined, b: undefined });
    // tsdlt's extract keeps the hints of a resource that yielded nothing (an incomplete table, never
    // created in the destination); dlt leaves such tables out of the schema
    expect(schemaTables(p)).toEqual(["a", "b"]);
    expect(p.defaultSchema.dataTables(true)).toEqual([]);
    // the state row still loads, so a new machine restores the dropped state
    expect(await count(p, "_dlt_pipeline_state")).toBe(2);
  });

  it("should empty the tables and restart the incremental with drop_data, keeping the schema", async () => {
    const p = newPipeline("data");
    const seen: unknown[] = [];
    await p.run(mysrc(3, 2, seen));
    await p.run(mysrc(4, 2, seen));
    // incremental: the second run starts at the last cursor value and adds only ids 3 (ids ≥ 2, 2 deduplicated)
    expect(seen).toEqual([undefined, 2]);
    expect(await counts(p, TABLES)).toEqual({ a: 4, a__kids: 4, b: 4 });
    const version = p.defaultSchema.version;
    await p.run(mysrc(5, 1, seen).withoutResources("b"), { refresh: "drop_data" });
    expect(seen.at(-1)).toBeUndefined(); // the cursor was reset
    expect(await counts(p, TABLES)).toEqual({ a: 5, a__kids: 5, b: 4 });
    expect(schemaTables(p)).toEqual(["a", "a__kids", "b"]);
    expect(p.defaultSchema.version).toBe(version);
    expect(p.state.sources?.mysrc?.src_key).toBe("v");
    // the next run without refresh continues incrementally from the new cursor
    await p.run(mysrc(7, 0, seen).withoutResources("b"));
    expect(seen.at(-1)).toBe(4);
    expect(await counts(p, ["a"])).toEqual({ a: 7 });
  });

  it("should empty tables whose resource yields nothing with drop_data", async () => {
    // dlt 1.26 empties only tables that receive rows in the same package (its loader truncates tables
    // with jobs); tsdlt follows dlt's documented behaviour and empties every refreshed table
    const p = newPipeline("data_empty");
    await p.run(mysrc(3, 2));
    await p.run(mysrc(0, 0), { refresh: "drop_data" });
    expect(await counts(p, TABLES)).toEqual({ a: 0, a__kids: 0, b: 0 });
    expect(schemaTables(p)).toEqual(["a", "a__kids", "b"]);
  });

  it("should refresh on every run when set on the pipeline, and only once when given to run()", async () => {
    const p = newPipeline("every", { refresh: "drop_data" });
    await p.run(mysrc(3, 2));
    await p.run(mysrc(3, 2));
    expect(await counts(p, TABLES)).toEqual({ a: 3, a__kids: 3, b: 2 });

    const once = newPipeline("once");
    await once.run(mysrc(3, 2));
    await once.run(mysrc(3, 2), { refresh: "drop_data" });
    await once.run(mysrc(3, 2));
    // the third run appends `b` again (no refresh) while `a` is incremental
    expect(await counts(once, TABLES)).toEqual({ a: 3, a__kids: 3, b: 4 });
  });

  it("should drop the tables of plain data passed to run() with drop_resources", async () => {
    const p = newPipeline("plain");
    await p.run([{ id: 1, tags: ["x"] }], { tableName: "users" });
    await p.run([{ id: 1 }], { tableName: "orders" });
    await p.run([{ name: "new" }], { tableName: "users", refresh: "drop_resources" });
    expect(await counts(p, ["users", "users__tags", "orders"])).toEqual({
      users: 1,
      users__tags: undefined,
      orders: 1,
    });
    expect(await p.query("SELECT * EXCLUDE (_dlt_load_id, _dlt_id) FROM ds.users")).toEqual([
      { name: "new" },
    ]);
  });

  it("should drop every table of the default schema with drop_sources on plain data", async () => {
    const p = newPipeline("plain_sources");
    await p.run([{ id: 1, tags: ["x"] }], { tableName: "users" });
    await p.run([{ id: 1 }], { tableName: "orders" });
    await p.run([{ name: "new" }], { tableName: "users", refresh: "drop_sources" });
    expect(await counts(p, ["users", "users__tags", "orders"])).toEqual({
      users: 1,
      users__tags: undefined,
      orders: undefined,
    });
    expect(schemaTables(p)).toEqual(["users"]);
    expect(
      Object.keys(p.defaultSchema.getTable("users")?.columns ?? {}).filter((c) => !c.startsWith("_")),
    ).toEqual(["name"]);
  });

  it("should also drop the parent of a selected transformer with drop_resources", async () => {
    const p = newPipeline("transformer");
    const issues = (n: number): dlt.DltResource =>
      dlt.resource(
        function* issues() {
          for (let i = 0; i < n; i++) yield { id: i };
        },
        { name: "issues" },
      );
    const comments = (parent: dlt.DltResource): dlt.DltResource =>
      dlt.transformer(
        function* comments(item: { id: number }) {
          yield { issue: item.id };
        },
        { name: "comments", dataFrom: parent },
      );
    const src = (n: number) =>
      dlt.source(
        function* gh() {
          const parent = issues(n);
          yield parent;
          yield comments(parent);
        },
        { name: "gh" },
      )();
    await p.run(src(3));
    expect(await counts(p, ["issues", "comments"])).toEqual({ issues: 3, comments: 3 });
    // only `comments` is selected, but dlt's extracted resources include the parent it reads
    await p.run(src(2).withResources("comments"), { refresh: "drop_resources" });
    expect(await counts(p, ["issues", "comments"])).toEqual({ issues: undefined, comments: 2 });
  });
});

/**
 * The DuckDB destination of `name`, whose `completeLoad` fails (terminally, so the load stage does not
 * retry) while `failing.on` is set: the load stops after its jobs ran, before the package is recorded.
 */
function flakyDuckdb(name: string, failing: { on: boolean }): dlt.Destination {
  const real = dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) });
  return {
    ...real,
    async createClient(schema, context) {
      const client = await real.createClient(schema, context);
      return new Proxy(client, {
        get(target, prop) {
          if (prop === "completeLoad" && failing.on) {
            return async () => {
              throw new dlt.DestinationError("[tsdlt] [duckdb] completeLoad failed (injected).", {
                code: "DESTINATION_TERMINAL",
                retryable: false,
                destination: "duckdb",
              });
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    },
  };
}

describe("refresh and failed loads", () => {
  it("should keep the old tables and rows when the load fails, and drop and load when run again", async () => {
    const failing = { on: false };
    const p = newPipeline("failing", { destination: flakyDuckdb("failing", failing) });
    await p.run(mysrc(3, 2));
    failing.on = true;
    await expect(p.run(mysrc(5, 2).withoutResources("b"), { refresh: "drop_resources" })).rejects.toThrow(
      /completeLoad failed \(injected\)/,
    );
    // the drop ran in the load transaction, which rolled back: the old tables and rows are all there
    expect(await counts(p, TABLES)).toEqual({ a: 3, a__kids: 3, b: 2 });
    expect(p.listPendingPackages().normalized).toHaveLength(1);
    failing.on = false;
    // the next run finishes the pending package: drop, then the new rows
    const info = await p.run();
    expect(info.loadPackages.map((pkg) => pkg.state)).toEqual(["loaded"]);
    expect(await counts(p, TABLES)).toEqual({ a: 5, a__kids: 5, b: 2 });
    expect(await versions(p)).toEqual([p.defaultSchema.version]);
  });

  it("should create a package's new tables in its load transaction: none after a failed load, all after the re-run", async () => {
    const failing = { on: true };
    const p = newPipeline("new_tables", { destination: flakyDuckdb("new_tables", failing) });
    await expect(p.run(mysrc(3, 2))).rejects.toThrow(/completeLoad failed \(injected\)/);
    // the CREATE TABLEs rolled back with the rows: no empty tables are left behind
    expect(await counts(p, TABLES)).toEqual({ a: undefined, a__kids: undefined, b: undefined });
    expect(p.listPendingPackages().normalized).toHaveLength(1);
    failing.on = false;
    const info = await p.run();
    expect(info.loadPackages.map((pkg) => pkg.state)).toEqual(["loaded"]);
    expect(await counts(p, TABLES)).toEqual({ a: 3, a__kids: 3, b: 2 });
    expect(await versions(p)).toEqual([p.defaultSchema.version]);
  });

  it("should not drop again when a load without transaction resumes after the drop", async () => {
    const failing = { on: false };
    const p = newPipeline("resumed", { destination: flakyDuckdb("resumed", failing) });
    await p.run(mysrc(3, 2));
    failing.on = true;
    // raiseOnFailedJobs: false loads job by job (no load transaction): the drop commits at once
    await expect(
      p.run(mysrc(5, 2).withoutResources("b"), { refresh: "drop_resources", raiseOnFailedJobs: false }),
    ).rejects.toThrow(/completeLoad failed \(injected\)/);
    expect(await counts(p, TABLES)).toEqual({ a: 5, a__kids: 5, b: 2 });
    failing.on = false;
    await p.run(undefined, { raiseOnFailedJobs: false });
    // dropping again would have emptied the tables loaded by the first attempt
    expect(await counts(p, TABLES)).toEqual({ a: 5, a__kids: 5, b: 2 });
    expect(await count(p, "_dlt_loads")).toBe(2);
  });
  it("should not empty again, with drop_data, tables a resumed load without transaction already loaded", async () => {
    const failing = { on: false };
    const p = newPipeline("resumed_data", { destination: flakyDuckdb("resumed_data", failing) });
    await p.run(mysrc(3, 2));
    failing.on = true;
    await expect(
      p.run(mysrc(4, 0).withoutResources("b"), { refresh: "drop_data", raiseOnFailedJobs: false }),
    ).rejects.toThrow(/completeLoad failed \(injected\)/);
    expect(await counts(p, TABLES)).toEqual({ a: 4, a__kids: 4, b: 2 });
    failing.on = false;
    await p.run(undefined, { raiseOnFailedJobs: false });
    expect(await counts(p, TABLES)).toEqual({ a: 4, a__kids: 4, b: 2 });
  });
});

describe("refresh on a destination that cannot drop tables", () => {
  it("should warn, naming the tables, and still load and reset the state (a custom sink)", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const received: unknown[] = [];
    const p = dlt.pipeline({
      pipelineName: "sink",
      pipelinesDir: join(root, "pipelines"),
      destination: dlt.destination((items) => {
        received.push(...items);
      }),
      logger,
    });
    const seen: unknown[] = [];
    await p.run(mysrc(2, 0, seen));
    await p.run(mysrc(2, 0, seen), { refresh: "drop_resources" });
    expect(seen).toEqual([undefined, undefined]);
    // the sink keeps `kids` as a JSON column, so `a` is the only table
    expect(warnings).toContain("[destination] refresh: the destination cannot drop tables; not dropped: `a`");
    expect(received.filter((r) => (r as { id?: number }).id !== undefined)).toHaveLength(4);
  });
});

describe("dlt.dropResources()", () => {
  it("should drop the selected resources' tables and state, and with stateOnly reset state only", async () => {
    const p = newPipeline("dropping");
    await p.run(mysrc(3, 2));
    const plan = dlt.planDrop(p.defaultSchema, p.state.sources, {
      resources: ["re:^a"],
      statePaths: ["src_key"],
    });
    expect(plan).toEqual({
      schemaName: "mysrc",
      resources: ["a"],
      tables: ["a__kids", "a"],
      tablesWithData: ["a__kids", "a"],
      resourceStates: ["a"],
      statePaths: ["src_key"],
    });
    await dlt.dropResources(p, { resources: ["re:^a"], statePaths: ["src_key"] });
    expect(await counts(p, TABLES)).toEqual({ a: undefined, a__kids: undefined, b: 2 });
    expect(schemaTables(p)).toEqual(["b"]);
    expect(p.state.sources?.mysrc).toEqual({ resources: {} });

    const q = newPipeline("state_only");
    await q.run(mysrc(3, 2));
    await dlt.dropResources(q, { resources: ["a"], stateOnly: true });
    expect(await counts(q, TABLES)).toEqual({ a: 3, a__kids: 3, b: 2 });
    expect(q.state.sources?.mysrc?.resources?.a).toBeUndefined();
    // the reset cursor loads every row again on the next run
    await q.run(mysrc(3, 0).withoutResources("b"));
    expect(await counts(q, ["a"])).toEqual({ a: 6 });
  });
});
