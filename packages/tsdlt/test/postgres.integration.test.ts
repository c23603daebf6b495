/**
 * The Postgres destination through the public pipeline API (issue 9), against the server in
 * `TSDLT_POSTGRES_URL` (`.ci/run` starts one), with `destination: "postgres"` resolved by name and its
 * credentials taken from `DESTINATION__POSTGRES__CREDENTIALS`, as a user would run it.
 *
 * Every scenario runs as `node <script>.mjs` in a project folder whose `node_modules` links the built
 * packages (`tsdlt`, `@tsdlt/destination-postgres`, `@tsdlt/rest-client`; see `node-project.ts`), as a
 * user's script would, so the packages must be built first (`pnpm build` / `npx tsc -b`; `pnpm test`
 * builds).
 *
 * Each scenario runs on DuckDB as well, and the rows both leave behind are compared after replacing
 * random `_dlt_id`s by the content of the rows they point to: the quick start, the tutorial's merge
 * step (the built example with only its destination changed), every write disposition and strategy,
 * and every data type. Also: state restore after the working folder is deleted, and wrong credentials
 * or an unreachable server failing fast, leaving the package pending for a successful re-run.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePostgresCredentials } from "@tsdlt/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GithubServer, startGithubServer } from "../../../apps/examples/test/github-server.js";
import {
  assertBuilt,
  dropPostgresDatasets,
  nodeProject,
  POSTGRES_ENV,
  POSTGRES_URL,
  postgresTitle,
  REPO,
  resultOf,
  runScript,
  SCRIPT_HELPERS,
} from "./node-project.js";

const LINKED = ["tsdlt", "@tsdlt/destination-postgres", "@tsdlt/rest-client"];
const BUILT = [
  join(REPO, "packages/tsdlt/dist/index.js"),
  join(REPO, "packages/destination-postgres/dist/index.js"),
  join(REPO, "packages/rest-client/dist/index.js"),
  join(REPO, "apps/examples/dist/quick-start.js"),
  join(REPO, "apps/examples/dist/github-issues-merge.js"),
];

type Kind = "duckdb" | "postgres";
type Dump = Record<string, Record<string, unknown>[]>;

/**
 * Shared by every script: {@link SCRIPT_HELPERS} and `dump(pipeline)`, which returns each data table
 * of the pipeline's dataset as sorted rows in which values are canonical (bigints and decimals as
 * text, dates as ISO strings, bytes as hex, JSON text re-serialised with sorted keys) and the random
 * `_dlt_id`, `_dlt_parent_id`, `_dlt_root_id` and `_dlt_load_id` are replaced by the content of the
 * row they point to.
 */
const HELPERS = `${SCRIPT_HELPERS}
function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object") return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])]));
  return value;
}
function canonical(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return "hex:" + Buffer.from(value).toString("hex");
  if (typeof value === "string" && /^[\\[{]/.test(value)) {
    try { return "json:" + JSON.stringify(sorted(JSON.parse(value))); } catch {}
  }
  return value;
}
const LINKS = new Set(["_dlt_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_load_id"]);
export async function dump(pipeline) {
  const client = await pipeline.sqlClient();
  try {
    const names = (await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [pipeline.datasetName],
    )).map((r) => String(r.table_name)).filter((t) => !t.startsWith("_dlt_"));
    const byId = new Map();
    const tables = {};
    for (const name of names) {
      tables[name] = (await client.query("SELECT * FROM " + client.qualifiedTableName(name))).map((raw) => {
        const row = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, canonical(v)]));
        if (row._dlt_id != null) byId.set(row._dlt_id, row);
        return row;
      });
    }
    const keyOf = (row) => {
      const own = JSON.stringify(Object.entries(row).filter(([k]) => !LINKS.has(k)).sort());
      const parent = row._dlt_parent_id == null ? undefined : byId.get(row._dlt_parent_id);
      return parent ? own + " < " + keyOf(parent) : own;
    };
    const out = {};
    for (const [name, rows] of Object.entries(tables)) {
      out[name] = rows.map((row) => {
        const clean = Object.fromEntries(Object.entries(row).filter(([k]) => !LINKS.has(k)));
        if (row._dlt_parent_id != null) clean._parent = keyOf(byId.get(row._dlt_parent_id) ?? {});
        if (row._dlt_root_id != null && row._dlt_root_id !== row._dlt_parent_id) clean._root = keyOf(byId.get(row._dlt_root_id) ?? {});
        return sorted(clean);
      }).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    }
    return out;
  } finally {
    await client[Symbol.asyncDispose]();
  }
}
`;

/**
 * Runs every write disposition and strategy (the cases of `dispositions.test.ts`) and a row of every
 * data type on the destination named in `argv[2]`, and prints each scenario's final tables.
 */
const SCENARIOS = `
import { dlt, dump, drop, result, silent } from "./helpers.mjs";
const [kind, suffix, format] = process.argv.slice(2);
const out = {};
const formats = new Set();
async function scenario(name, runs) {
  // a dataset of its own per scenario (on DuckDB, one named like the file works too: names get the catalog)
  const pipeline = dlt.pipeline({ pipelineName: name + "_" + suffix, destination: kind, datasetName: name + "_data_" + suffix, logger: silent });
  if (kind === "postgres") await drop(pipeline);
  for (const [data, options] of runs) {
    const info = await pipeline.run(data, format ? { ...options, loaderFileFormat: format } : options);
    for (const pkg of info.loadPackages) for (const job of pkg.jobs) formats.add(job.fileName.split(".").at(-1));
  }
  out[name] = await dump(pipeline);
  if (kind === "postgres") await drop(pipeline);
}
const users = (writeDisposition, extra = {}) => ({ tableName: "users", writeDisposition, ...extra });
const day = (d) => "2024-01-0" + d + "T00:00:00Z";

await scenario("append", [
  [[{ id: 1, name: "a", items: ["x", "y"] }], users("append")],
  [[{ id: 1, name: "a", items: ["x", "y"] }, { id: 2, name: "b" }], users("append")],
]);
for (const strategy of ["truncate-and-insert", "insert-from-staging", "staging-optimized"]) {
  const replace = users({ disposition: "replace", strategy });
  await scenario("replace_" + strategy.replaceAll("-", "_"), [
    [[{ id: 1, name: "a", items: ["x", "y"] }, { id: 2, name: "b", items: ["z"] }], replace],
    [[{ id: 3, name: "c", items: ["w"] }], replace],
    [[{ id: 4, name: "d", items: [] }, { id: 5, name: "e", items: ["v"] }], replace],
  ]);
}
const mergeColumns = { deleted: { data_type: "bool", hard_delete: true }, updated: { data_type: "bigint", dedup_sort: "desc" } };
await scenario("delete_insert", [
  [[{ id: 1, name: "a", updated: 1, items: ["x", "y"] }, { id: 2, name: "b", updated: 1, items: ["z"] }],
    users("merge", { primaryKey: "id", columns: mergeColumns })],
  [[
    { id: 1, name: "a-old", updated: 0, items: ["old"] },
    { id: 1, name: "a2", updated: 2, items: ["x2"] },
    { id: 3, name: "c", updated: 1, items: [] },
    { id: 3, name: "c", updated: 1, items: [] },
    { id: 2, deleted: true, updated: 2 },
  ], users("merge", { primaryKey: "id", columns: mergeColumns })],
  [[{ id: 2, name: "b-again", updated: 3, items: ["w", "v"] }, { id: 4, deleted: true, updated: 1 }],
    users("merge", { primaryKey: "id", columns: mergeColumns })],
]);
await scenario("merge_key", [
  [[{ day: "mon", v: 1 }, { day: "mon", v: 2 }, { day: "tue", v: 3 }], { tableName: "events", writeDisposition: "merge", columns: { day: { merge_key: true } } }],
  [[{ day: "mon", v: 9 }], { tableName: "events", writeDisposition: "merge", columns: { day: { merge_key: true } } }],
]);
for (const strategy of ["upsert", "insert-only"]) {
  const options = users({ disposition: "merge", strategy }, { primaryKey: "id", columns: { deleted: { data_type: "bool", hard_delete: true } } });
  await scenario(strategy.replaceAll("-", "_"), [
    [[{ id: 1, name: "a", items: ["x", "y"] }, { id: 2, name: "b", items: ["z"] }, { id: 3, name: "c" }], options],
    [[{ id: 1, name: "a2", items: ["y", "q"] }, { id: 2, deleted: true }, { id: 4, name: "d", items: ["n"] }], options],
  ]);
}
const scd2 = (d) => users({ disposition: "merge", strategy: "scd2", boundaryTimestamp: day(d) });
await scenario("scd2", [
  [[{ id: 1, name: "a", items: ["x"] }, { id: 2, name: "b" }], scd2(1)],
  [[{ id: 1, name: "a2", items: ["x", "y"] }, { id: 3, name: "c" }], scd2(2)],
  [[{ id: 1, name: "a", items: ["x"] }, { id: 3, name: "c" }], scd2(3)],
]);
await scenario("all_types", [
  [[{
    id: 1, big: 9007199254740993n, neg: -9223372036854775808n, score: 1.25, nan: Number.NaN, flag: true, text: 'a, "b"\\nc ✓',
    empty: "", nothing: null, amount: "12.5", at: new Date("2024-05-01T10:00:00.123Z"), day: "2024-02-29",
    bin: new Uint8Array([0, 1, 254, 255]), doc: { a: [1, { b: "x" }], c: null }, nested: { deep: { value: 7 } },
  }], { tableName: "types", columns: {
    amount: { data_type: "decimal" }, day: { data_type: "date" }, doc: { data_type: "json" }, nan: { data_type: "double" },
  } }],
]);
result({ tables: out, formats: [...formats].sort() });
`;

let root: string;
let suffix: string;

/** A project folder `root/<name>` linking the built packages, with config coming only from `env`. */
const project = (name: string): string => nodeProject(join(root, name), LINKED, { "helpers.mjs": HELPERS });

/** Every file under `dir` whose text contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (readFileSync(full, "utf8").includes(needle)) found.push(full);
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}

describe.skipIf(!POSTGRES_URL)(postgresTitle("pipelines on Postgres"), () => {
  const credentials = parsePostgresCredentials(POSTGRES_URL ?? "postgresql://x:y@localhost/z");
  const masked = String(credentials);

  beforeAll(() => {
    assertBuilt(BUILT);
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-postgres-pipeline-"));
    suffix = randomBytes(3).toString("hex");
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** The tables of `pipelineName`/`datasetName` on `kind`, canonicalised by `dump`. */
  async function dumpOf(cwd: string, kind: Kind, pipelineName: string, datasetName: string): Promise<Dump> {
    const code = `import { dlt, dump, result, silent } from "./helpers.mjs";
const [kind, pipelineName, datasetName] = process.argv.slice(2);
result(await dump(dlt.pipeline({ pipelineName, destination: kind, datasetName, logger: silent })));`;
    return resultOf<Dump>(
      await runScript(cwd, "dump.mjs", code, [kind, pipelineName, datasetName], POSTGRES_ENV),
    );
  }

  interface Scenarios {
    readonly tables: Record<string, Dump>;
    /** The extensions of the job files loaded. */
    readonly formats: string[];
  }
  let onDuckdb: Scenarios | undefined;

  /**
   * {@link SCENARIOS} on Postgres with `loaderFileFormat: format` (default: none), checked to leave the
   * rows DuckDB gets and the intended ones.
   */
  async function scenariosOnPostgres(format?: "csv" | "jsonl"): Promise<Scenarios> {
    const args = ["postgres", suffix, ...(format ? [format] : [])];
    const result = resultOf<Scenarios>(
      await runScript(project("pg"), "scenarios.mjs", SCENARIOS, args, POSTGRES_ENV),
    );
    onDuckdb ??= resultOf<Scenarios>(
      await runScript(project("duck"), "scenarios.mjs", SCENARIOS, ["duckdb", suffix], {}),
    );
    const pg = result.tables;
    const duck = onDuckdb.tables;
    expect(Object.keys(pg)).toEqual(Object.keys(duck));
    for (const name of Object.keys(duck)) expect({ [name]: pg[name] }).toEqual({ [name]: duck[name] });

    // and the rows are the intended ones
    const names = (rows: Record<string, unknown>[] | undefined) => rows?.map((r) => `${r.id}:${r.name}`);
    expect(names(pg.append?.users)).toEqual(["1:a", "1:a", "2:b"]);
    for (const strategy of ["truncate_and_insert", "insert_from_staging", "staging_optimized"]) {
      expect(names(pg[`replace_${strategy}`]?.users)).toEqual(["4:d", "5:e"]);
      expect(pg[`replace_${strategy}`]?.users__items?.map((r) => r.value)).toEqual(["v"]);
    }
    expect(names(pg.delete_insert?.users)).toEqual(["1:a2", "2:b-again", "3:c"]);
    expect(pg.merge_key?.events?.map((r) => r.v)).toEqual(["9", "3"]);
    expect(names(pg.upsert?.users)).toEqual(["1:a2", "3:c", "4:d"]);
    // insert-only never touches stored rows: neither the update of 1 nor the delete of 2 applies
    expect(names(pg.insert_only?.users)).toEqual(["1:a", "2:b", "3:c", "4:d"]);
    const versions = pg.scd2?.users?.map((r) => [r.id, r.name, r._dlt_valid_from, r._dlt_valid_to]);
    expect(versions?.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))).toEqual([
      ["1", "a", "2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z"],
      ["1", "a", "2024-01-03T00:00:00.000Z", null],
      ["1", "a2", "2024-01-02T00:00:00.000Z", "2024-01-03T00:00:00.000Z"],
      ["2", "b", "2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z"],
      ["3", "c", "2024-01-02T00:00:00.000Z", null],
    ]);
    expect(pg.all_types?.types?.[0]).toMatchObject({
      big: "9007199254740993",
      neg: "-9223372036854775808",
      bin: "hex:0001feff",
      doc: 'json:{"a":[1,{"b":"x"}],"c":null}',
      at: "2024-05-01T10:00:00.123Z",
      day: "2024-02-29",
      nested__deep__value: "7",
      text: 'a, "b"\nc ✓',
      empty: "",
    });
    return result;
  }

  it('should run every write disposition and strategy, and load every data type, with the same rows as DuckDB, from jsonl job files (`loaderFileFormat: "jsonl"`)', async () => {
    expect((await scenariosOnPostgres("jsonl")).formats).toEqual(["jsonl", "sql"]);
  }, 180_000);

  it("should run every write disposition and strategy, and load every data type, with the same rows as DuckDB, from csv job files (the default)", async () => {
    expect((await scenariosOnPostgres()).formats).toEqual(["csv", "sql"]);
  }, 180_000);

  it('should run the quick start with `destination: "postgres"` and credentials from env, leaving the rows DuckDB gets', async () => {
    const source = readFileSync(join(REPO, "apps/examples/dist/quick-start.js"), "utf8");
    const onPostgres = source.replace('destination: "duckdb"', 'destination: "postgres"');
    expect(onPostgres).not.toBe(source);
    const pgProject = project("pg");
    const duckProject = project("duck");
    await dropPostgresDatasets(pgProject, "mydata");
    try {
      const run = await runScript(pgProject, "quick-start.mjs", onPostgres, [], POSTGRES_ENV);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^Pipeline quick_start load step completed in .+$/);
      expect(lines[1]).toBe("1 load package(s) were loaded to destination postgres and into dataset mydata");
      expect(lines[2]).toBe(`The postgres destination used ${masked} location to store data`);
      expect(lines[3]).toMatch(/^Load package \d+\.\d+ is LOADED and contains no failed jobs$/);
      expect(run.stdout).not.toContain(credentials.password);

      const baseline = await runScript(duckProject, "quick-start.mjs", source, [], {});
      expect(baseline.code).toBe(0);
      const pg = await dumpOf(pgProject, "postgres", "quick_start", "mydata");
      const duck = await dumpOf(duckProject, "duckdb", "quick_start", "mydata");
      expect(pg).toEqual(duck);
      expect(pg.users).toEqual([
        { id: "1", name: "Alice" },
        { id: "2", name: "Bob" },
      ]);
    } finally {
      await dropPostgresDatasets(pgProject, "mydata");
    }
  }, 60_000);

  describe("the tutorial's merge step", () => {
    let github: GithubServer;

    beforeAll(async () => {
      github = await startGithubServer();
    });

    afterAll(async () => {
      await github?.close();
    });

    it("should keep one row per issue, the latest, as on DuckDB", async () => {
      const source = readFileSync(join(REPO, "apps/examples/dist/github-issues-merge.js"), "utf8");
      const onPostgres = source.replace('destination: "duckdb"', 'destination: "postgres"');
      expect(onPostgres).not.toBe(source);
      const pgProject = project("pg");
      const duckProject = project("duck");
      const env = { SOURCES__GITHUB__BASE_URL: github.url };
      await dropPostgresDatasets(pgProject, "github_data_merge");
      try {
        for (const [cwd, code, extra] of [
          [pgProject, onPostgres, POSTGRES_ENV],
          [duckProject, source, {}],
        ] as const) {
          github.variant = "recorded";
          const first = await runScript(cwd, "merge.mjs", code, [], { ...env, ...extra });
          expect(first.stderr).not.toMatch(/Error|failed/);
          expect(first.code).toBe(0);
          github.variant = "next-day";
          const second = await runScript(cwd, "merge.mjs", code, [], { ...env, ...extra });
          expect(second.code).toBe(0);
        }
        const pg = await dumpOf(pgProject, "postgres", "github_issues_merge", "github_data_merge");
        const duck = await dumpOf(duckProject, "duckdb", "github_issues_merge", "github_data_merge");
        expect(Object.keys(pg).sort()).toEqual(Object.keys(duck).sort());
        for (const table of Object.keys(duck))
          expect({ [table]: pg[table] }).toEqual({ [table]: duck[table] });
        const numbers = pg.issues?.map((r) => Number(r.number)).sort((a, b) => a - b);
        expect(numbers).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
        // the second run replaced issue 13 (renamed) and 5 (commented) by their next-day versions
        expect(pg.issues?.find((r) => r.number === "13")?.updated_at).toBe("2017-10-11T09:00:00.000Z");
        expect(pg.issues?.find((r) => r.number === "5")?.updated_at).toBe("2017-10-11T10:30:00.000Z");
      } finally {
        await dropPostgresDatasets(pgProject, "github_data_merge");
      }
    }, 90_000);
  });

  it("should restore state from Postgres after the working folder is deleted, so the cursor continues", async () => {
    const cwd = project("pg");
    const pipelineName = `restore_${suffix}`;
    const code = `import { dlt, result, silent } from "./helpers.mjs";
const [name, count] = process.argv.slice(2);
const numbers = dlt.resource(async function* (id = dlt.sources.incremental("id", { initialValue: 0 })) {
  for (let i = 1; i <= Number(count); i++) if (i > id.lastValue) yield { id: i };
}, { name: "numbers" });
const pipeline = dlt.pipeline({ pipelineName: name, destination: "postgres", datasetName: name, logger: silent });
await pipeline.run(numbers);
const rows = await pipeline.query("SELECT count(*)::int AS n, max(id)::int AS top FROM " + JSON.stringify(name) + ".numbers");
result({ rows, state: pipeline.state.sources });`;
    try {
      const first = resultOf<{ rows: unknown }>(
        await runScript(cwd, "restore.mjs", code, [pipelineName, "3"], POSTGRES_ENV),
      );
      expect(first.rows).toEqual([{ n: 3, top: 3 }]);
      const workingDir = join(cwd, "dlt-data", "pipelines", pipelineName);
      expect(existsSync(join(workingDir, "state.json"))).toBe(true);
      rmSync(workingDir, { recursive: true, force: true });
      const second = resultOf<{ rows: unknown; state: unknown }>(
        await runScript(cwd, "restore.mjs", code, [pipelineName, "5"], POSTGRES_ENV),
      );
      // rows 1-3 were not extracted again: the cursor came back from `_dlt_pipeline_state`
      expect(second.rows).toEqual([{ n: 5, top: 5 }]);
      expect(JSON.stringify(second.state)).toContain('"last_value":5');
      expect(existsSync(join(workingDir, "schemas", `${pipelineName}.schema.json`))).toBe(true);
    } finally {
      await dropPostgresDatasets(cwd, pipelineName);
    }
  }, 60_000);

  /** Script lines defining `destination`: Postgres whose `completeLoad` fails when `phase` is "fail". */
  const FAILING_COMPLETE_LOAD = `const real = await dlt.resolveDestination("postgres");
const destination = { ...real, async createClient(schema, context) {
  const client = await real.createClient(schema, context);
  return new Proxy(client, { get(target, prop) {
    if (prop === "completeLoad" && phase === "fail") return async () => { throw new dlt.DestinationError("completeLoad failed (injected)", { code: "DESTINATION_TERMINAL", retryable: false }); };
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  } });
} };`;

  it("should drop refreshed tables in the load transaction, keep them when the load fails, and attach() from Postgres", async () => {
    const cwd = project("pg");
    const pipelineName = `refresh_${suffix}`;
    // `phase`: first | fail (refresh whose completeLoad fails) | finish (run the pending package) | attach
    const code = `import { dlt, result, silent } from "./helpers.mjs";
const [name, phase] = process.argv.slice(2);
${FAILING_COMPLETE_LOAD}
const src = (n) => dlt.source(function* mysrc() {
  yield dlt.resource(function* a(cursor = dlt.sources.incremental("id")) { for (let i = 0; i < n; i++) yield { id: i, kids: [{ k: i }] }; }, { name: "a" });
  yield dlt.resource(function* b() { dlt.current.sourceState().src_key = "v"; yield { id: 1 }; }, { name: "b" });
}, { name: "mysrc" })();
const p = phase === "attach"
  ? await dlt.attach({ pipelineName: name, destination, datasetName: name, logger: silent })
  : dlt.pipeline({ pipelineName: name, destination, datasetName: name, logger: silent });
let error;
try {
  if (phase === "first") await p.run(src(3));
  if (phase === "fail") await p.run(src(5).withoutResources("b"), { refresh: "drop_resources" });
  if (phase === "finish") await p.run();
} catch (e) { error = e.message; }
const counts = {};
for (const t of ["a", "a__kids", "b"]) {
  const [row] = await p.query("SELECT to_regclass($1) IS NOT NULL AS present", [name + "." + t]);
  counts[t] = row.present ? Number((await p.query("SELECT count(*) AS n FROM " + JSON.stringify(name) + "." + t))[0].n) : null;
}
const versions = (await p.query("SELECT version FROM " + JSON.stringify(name) + "._dlt_version")).map((r) => Number(r.version));
result({ error, counts, versions, schemaVersion: p.defaultSchema.version, state: p.state.sources, pending: p.listPendingPackages().normalized.length });`;
    type Out = {
      error?: string;
      counts: Record<string, number | null>;
      versions: number[];
      schemaVersion: number;
      state: Record<string, { src_key?: string; resources?: Record<string, unknown> }>;
      pending: number;
    };
    const phase = async (name: string): Promise<Out> =>
      resultOf<Out>(await runScript(cwd, "refresh.mjs", code, [pipelineName, name], POSTGRES_ENV));
    try {
      const first = await phase("first");
      expect(first.error).toBeUndefined();
      expect(first.counts).toEqual({ a: 3, a__kids: 3, b: 1 });
      // the refresh run's load fails after its jobs: the transaction (drop included) rolls back
      const failed = await phase("fail");
      expect(failed.error).toContain("completeLoad failed (injected)");
      expect(failed.counts).toEqual({ a: 3, a__kids: 3, b: 1 });
      expect(failed.pending).toBe(1);
      // the next run finishes the package: the tables are dropped and loaded with the new rows
      const finished = await phase("finish");
      expect(finished.error).toBeUndefined();
      expect(finished.counts).toEqual({ a: 5, a__kids: 5, b: 1 });
      expect(finished.versions).toEqual([finished.schemaVersion]);
      expect(finished.state.mysrc?.src_key).toBe("v");
      // a new machine: attach() restores state and schema from Postgres
      rmSync(join(cwd, "dlt-data", "pipelines", pipelineName), { recursive: true, force: true });
      const attached = await phase("attach");
      expect(attached.error).toBeUndefined();
      expect(attached.state).toEqual(finished.state);
      expect(attached.schemaVersion).toBe(finished.schemaVersion);
    } finally {
      await dropPostgresDatasets(cwd, pipelineName);
    }
  }, 90_000);

  it("should create a package's new tables in its load transaction: none after a failed load, indexed after the re-run (issue 12)", async () => {
    const cwd = project("pg");
    const pipelineName = `newtables_${suffix}`;
    // `phase`: fail (completeLoad fails) | finish (run the pending package)
    const code = `import { dlt, result, silent } from "./helpers.mjs";
const [name, phase] = process.argv.slice(2);
${FAILING_COMPLETE_LOAD}
const p = dlt.pipeline({ pipelineName: name, destination, datasetName: name, logger: silent });
let error;
try {
  if (phase === "fail") await p.run([{ id: 1, tags: [{ t: "x" }, { t: "y" }] }, { id: 2, tags: [] }], { tableName: "items" });
  else await p.run();
} catch (e) { error = e.message; }
const tables = (await p.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [name])).map((r) => r.table_name);
const unique = (await p.query("SELECT conrelid::regclass::text AS t, conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND contype = 'u' ORDER BY 1, 2", [name])).map((r) => r.t.split(".").pop() + ":" + r.conname);
const rows = tables.includes("items") ? Number((await p.query("SELECT count(*) AS n FROM " + JSON.stringify(name) + ".items__tags"))[0].n) : null;
result({ error, tables, unique, rows, pending: p.listPendingPackages().normalized.length });`;
    type Out = { error?: string; tables: string[]; unique: string[]; rows: number | null; pending: number };
    const phase = async (name: string): Promise<Out> =>
      resultOf<Out>(await runScript(cwd, "newtables.mjs", code, [pipelineName, name], POSTGRES_ENV));
    try {
      const failed = await phase("fail");
      expect(failed.error).toContain("completeLoad failed (injected)");
      // the migration rolled back with the rows: no empty tables are left behind
      expect(failed.tables.filter((t) => !t.startsWith("_dlt"))).toEqual([]);
      expect(failed.pending).toBe(1);
      const finished = await phase("finish");
      expect(finished.error).toBeUndefined();
      expect(finished.tables).toEqual([
        "_dlt_loads",
        "_dlt_pipeline_state",
        "_dlt_version",
        "items",
        "items__tags",
      ]);
      expect(finished.rows).toBe(2);
      // the UNIQUE constraints dlt's create_indexes gives, added after the COPY
      expect(finished.unique).toEqual([
        "_dlt_pipeline_state:_dlt_pipeline_state__dlt_id_key",
        "items:items__dlt_id_key",
        "items__tags:items__tags__dlt_id_key",
      ]);
      expect(finished.pending).toBe(0);
    } finally {
      await dropPostgresDatasets(cwd, pipelineName);
    }
  }, 90_000);

  describe("bad input", () => {
    const FAILING = `import { dlt, result, silent } from "./helpers.mjs";
const [name] = process.argv.slice(2);
const data = [{ id: 1, name: "Alice" }, { id: 2, name: "Bob" }];
const pipeline = dlt.pipeline({ pipelineName: name, destination: "postgres", datasetName: name, logger: silent });
const failure = async (work) => {
  const started = Date.now();
  try { await work(); return undefined; } catch (error) {
    return { message: error.message, retryable: error.retryable, step: error.step, ms: Date.now() - started };
  }
};
const run = await failure(() => pipeline.run(data, { tableName: "users" }));
const afterRun = pipeline.listPendingPackages();
await pipeline.extract(data, { tableName: "users" });
await pipeline.normalize();
const load = await failure(() => pipeline.load());
result({ run, afterRun, load, pending: pipeline.listPendingPackages() });`;
    const RERUN = `import { dlt, result, silent } from "./helpers.mjs";
const [name] = process.argv.slice(2);
const pipeline = dlt.pipeline({ pipelineName: name, destination: "postgres", datasetName: name, logger: silent });
const info = await pipeline.run();
const rows = await pipeline.query("SELECT id, name FROM " + JSON.stringify(name) + ".users ORDER BY id");
result({ loaded: info.loadPackages.map((p) => p.state), rows, pending: pipeline.listPendingPackages() });`;

    interface Failure {
      readonly message: string;
      readonly retryable: boolean;
      readonly step: string;
      readonly ms: number;
    }
    interface Failed {
      readonly run: Failure;
      readonly afterRun: { extracted: string[]; normalized: string[] };
      readonly load: Failure;
      readonly pending: { extracted: string[]; normalized: string[] };
    }

    async function failAndRerun(badUrl: string, secret: string): Promise<Failed> {
      const cwd = project("pg");
      const pipelineName = `bad_input_${suffix}`;
      try {
        const failed = resultOf<Failed>(
          await runScript(cwd, "failing.mjs", FAILING, [pipelineName], {
            DESTINATION__POSTGRES__CREDENTIALS: badUrl,
          }),
        );
        // run() fails in its first step (sync), before anything is extracted
        expect(failed.run.step).toBe("sync");
        expect(failed.afterRun).toEqual({ extracted: [], normalized: [] });
        // a load that fails keeps its package for the next run
        expect(failed.load.step).toBe("load");
        expect(failed.pending.normalized).toHaveLength(1);
        for (const f of [failed.run, failed.load]) {
          expect(f.ms).toBeLessThan(5_000);
          expect(f.message).not.toContain(secret);
        }
        expect(filesContaining(join(cwd, "dlt-data"), secret)).toEqual([]);

        const rerun = resultOf<{ loaded: string[]; rows: unknown; pending: unknown }>(
          await runScript(cwd, "rerun.mjs", RERUN, [pipelineName], POSTGRES_ENV),
        );
        expect(rerun.loaded).toEqual(["loaded"]);
        expect(rerun.rows).toEqual([
          { id: 1n.toString(), name: "Alice" },
          { id: "2", name: "Bob" },
        ]);
        expect(rerun.pending).toEqual({ extracted: [], normalized: [] });
        return failed;
      } finally {
        await dropPostgresDatasets(cwd, pipelineName);
      }
    }

    it("should refuse a `loaderFileFormat` Postgres does not load, before extracting, naming the formats it loads", async () => {
      const code = `import { dlt, result, silent } from "./helpers.mjs";
const [name] = process.argv.slice(2);
const pipeline = dlt.pipeline({ pipelineName: name, destination: "postgres", datasetName: name, logger: silent });
let failure;
try {
  await pipeline.run([{ id: 1 }], { tableName: "users", loaderFileFormat: "parquet" });
} catch (error) {
  failure = { step: error.step, code: error.cause?.code, message: error.cause?.message };
}
result({ failure, pending: pipeline.listPendingPackages() });`;
      const out = resultOf<{ failure: unknown; pending: unknown }>(
        await runScript(project("pg"), "format.mjs", code, [`bad_format_${suffix}`], POSTGRES_ENV),
      );
      expect(out).toEqual({
        failure: {
          step: "run",
          code: "INVALID_ARGUMENT",
          message:
            '`loaderFileFormat: "parquet"` is not supported by destination `postgres`: it loads `csv`, `jsonl` job files. Use one of those as `loaderFileFormat`, or remove the option to use its preferred `csv`.',
        },
        pending: { extracted: [], normalized: [] },
      });
    });

    it("should fail fast on wrong credentials naming host, port, database and user, keep the package, and load it on a re-run", async () => {
      const secret = "Wr0ng-Passw0rd";
      const bad = credentials
        .toUrl({ redact: false })
        .replace(`:${encodeURIComponent(credentials.password)}@`, `:${secret}@`);
      expect(bad).toContain(secret);
      const failed = await failAndRerun(bad, secret);
      const where = `host \`${credentials.host}\`, port ${credentials.port}, database \`${credentials.database}\` as user \`${credentials.username}\``;
      for (const f of [failed.run, failed.load]) {
        expect(f.retryable).toBe(false);
        expect(f.message).toContain(`Could not connect to Postgres at ${where}`);
        expect(f.message).toContain("SQLSTATE 28P01");
      }
      expect(failed.load.message).toContain("Pending packages are kept");
    }, 60_000);

    it("should fail fast when the server is unreachable, keep the package, and load it on a re-run", async () => {
      const closed = createServer();
      await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
      const port = (closed.address() as { port: number }).port;
      await new Promise<void>((done) => closed.close(() => done()));
      const secret = "Unreach-Passw0rd";
      const bad = `postgresql://${credentials.username}:${secret}@127.0.0.1:${port}/${credentials.database}`;
      const failed = await failAndRerun(bad, secret);
      for (const f of [failed.run, failed.load]) {
        expect(f.message).toContain(
          `Could not connect to Postgres at host \`127.0.0.1\`, port ${port}, database \`${credentials.database}\` as user \`${credentials.username}\``,
        );
        expect(f.message).toContain("ECONNREFUSED");
      }
    }, 60_000);
  });

  it("should shorten identifiers longer than Postgres' 63 characters", async () => {
    const cwd = project("pg");
    const pipelineName = `long_names_${suffix}`;
    const code = `import { dlt, dump, result, silent } from "./helpers.mjs";
const [name] = process.argv.slice(2);
const pipeline = dlt.pipeline({ pipelineName: name, destination: "postgres", datasetName: name, logger: silent });
const key = "a_very_long_property_name_that_goes_on_and_on_well_beyond_what_postgres_allows";
await pipeline.run([{ id: 1, [key]: "kept", [key + "_list"]: [1, 2] }], { tableName: "t" });
result({ tables: await dump(pipeline), columns: Object.keys(pipeline.defaultSchema.getTable("t").columns) });`;
    try {
      const out = resultOf<{ tables: Dump; columns: string[] }>(
        await runScript(cwd, "long.mjs", code, [pipelineName], POSTGRES_ENV),
      );
      const long = out.columns.find((c) => c.startsWith("a_very_long"));
      expect(long?.length).toBeLessThanOrEqual(63);
      expect(out.tables.t?.[0]?.[long ?? ""]).toBe("kept");
      const nested = Object.keys(out.tables).find((t) => t !== "t");
      expect(nested?.length).toBeLessThanOrEqual(63);
      expect(out.tables[nested ?? ""]?.map((r) => r.value)).toEqual(["1", "2"]);
    } finally {
      await dropPostgresDatasets(cwd, pipelineName);
    }
  }, 60_000);
});
