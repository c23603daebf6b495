/**
 * Resources, sources and transformers through the public API on a real DuckDB file: every form the
 * getting-started tutorial shows (REFERENCE §1.6–1.11), in TypeScript.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;

function newPipeline(name: string): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
    datasetName: "data",
  });
}

async function rows(p: dlt.Pipeline, sql: string): Promise<Record<string, unknown>[]> {
  return p.query(sql);
}

async function count(p: dlt.Pipeline, table: string): Promise<number> {
  const [row] = await p.query(`SELECT count(*)::INT AS n FROM data.${table}`);
  return row?.n as number;
}

async function stepError(promise: Promise<unknown>): Promise<dlt.PipelineStepFailed> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(dlt.PipelineStepFailed);
  return error as dlt.PipelineStepFailed;
}

/** A stand-in for the REST client's `paginate()`: pages of an in-memory "API", filtered by `since`. */
const api: Record<string, Record<string, unknown>[]> = {};
async function* paginate(endpoint: string, params: Record<string, unknown> = {}): AsyncGenerator<unknown[]> {
  const since = params.since as string | undefined;
  const all = (api[endpoint] ?? []).filter((r) => since === undefined || String(r.updated_at) >= since);
  const perPage = Number(params.per_page ?? 2);
  for (let i = 0; i < all.length; i += perPage) {
    await Promise.resolve();
    yield all.slice(i, i + perPage);
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-resources-"));
  api.issues = [
    { id: 1, title: "bug", updated_at: "2024-01-01T00:00:00Z" },
    { id: 2, title: "feature", updated_at: "2024-01-02T00:00:00Z" },
    { id: 3, title: "docs", updated_at: "2024-01-03T00:00:00Z" },
  ];
  api.comments = [
    { id: 10, issue: 1, body: "+1", updated_at: "2024-01-01T10:00:00Z" },
    { id: 11, issue: 2, body: "lgtm", updated_at: "2024-01-02T10:00:00Z" },
  ];
  api["traffic/clones"] = [{ id: 100, count: 5, updated_at: "2024-01-01T00:00:00Z" }];
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("dlt.resource", () => {
  it("should load a generator function with its hints and merge on the primary key", async () => {
    const p = newPipeline("res_merge");
    let version = 1;
    const users = dlt.resource(
      function* users() {
        yield [
          { id: 1, name: `Alice v${version}` },
          { id: 2, name: `Bob v${version}` },
        ];
      },
      { writeDisposition: "merge", primaryKey: "id" },
    );
    await p.run(users);
    version = 2;
    await p.run(users);
    expect(await rows(p, "SELECT id::INT AS id, name FROM data.users ORDER BY id")).toEqual([
      { id: 1, name: "Alice v2" },
      { id: 2, name: "Bob v2" },
    ]);
  });

  it("should load sync and async generators yielding items or pages, with maps, filters and limits", async () => {
    const p = newPipeline("res_forms");
    const numbers = dlt
      .resource(function* numbers() {
        for (let n = 1; n <= 10; n++) yield n % 3 === 0 ? [{ n }, { n: n + 100 }] : { n };
      })
      .addFilter((row: { n: number }) => row.n !== 2)
      .addMap((row: { n: number }) => ({ ...row, doubled: row.n * 2 }))
      .addLimit(5);
    const pages = dlt.resource(
      async function* pages() {
        for (let page = 0; page < 3; page++) yield Array.from({ length: 4 }, (_, i) => ({ page, i }));
      },
      { tableName: "paged" },
    );
    await p.run([numbers, pages]);
    expect(await rows(p, "SELECT n::INT AS n, doubled::INT AS d FROM data.numbers ORDER BY n")).toEqual([
      { n: 1, d: 2 },
      { n: 3, d: 6 },
      { n: 4, d: 8 },
      { n: 5, d: 10 },
      { n: 103, d: 206 },
    ]);
    expect(await count(p, "paged")).toBe(12);
  });

  it("should route items to tables with a tableName function and selectTables", async () => {
    const p = newPipeline("res_dynamic_tables");
    const events = dlt
      .resource(
        [
          { id: 1, type: "Click" },
          { id: 2, type: "PageView" },
          { id: 3, type: "Scroll" },
        ],
        { name: "events", tableName: (e) => `${String(e.type)}Events` },
      )
      .selectTables("ClickEvents", "PageViewEvents");
    await p.run(events);
    expect(await count(p, "click_events")).toBe(1);
    expect(await count(p, "page_view_events")).toBe(1);
    expect(
      await rows(p, "SELECT table_name FROM information_schema.tables WHERE table_name = 'scroll_events'"),
    ).toEqual([]);
  });

  it("should keep history with the scd2 write disposition object form", async () => {
    const p = newPipeline("res_scd2");
    let data = [
      { id: 1, city: "Berlin" },
      { id: 2, city: "Paris" },
    ];
    const customers = dlt.resource(() => data, {
      name: "customers",
      writeDisposition: { disposition: "merge", strategy: "scd2" },
    });
    await p.run(customers);
    data = [
      { id: 1, city: "Hamburg" },
      { id: 2, city: "Paris" },
    ];
    await p.run(customers);
    expect(
      await rows(
        p,
        "SELECT id::INT AS id, city, _dlt_valid_to IS NULL AS active FROM data.customers ORDER BY id, _dlt_valid_from",
      ),
    ).toEqual([
      { id: 1, city: "Berlin", active: false },
      { id: 1, city: "Hamburg", active: true },
      { id: 2, city: "Paris", active: true },
    ]);
    const [hints] = await rows(
      p,
      "SELECT count(*)::INT AS n FROM information_schema.columns WHERE table_schema = 'data' AND table_name = 'customers' AND column_name IN ('_dlt_valid_from', '_dlt_valid_to')",
    );
    expect(hints?.n).toBe(2);
  });

  it("should fail naming both resources when they give one table different hints", async () => {
    const p = newPipeline("res_conflict");
    const a = dlt.resource([{ id: 1 }], {
      name: "a",
      tableName: "users",
      writeDisposition: "merge",
      primaryKey: "id",
    });
    const b = dlt.resource([{ id: 2 }], { name: "b", tableName: "users" });
    const error = await stepError(p.run([a, b]));
    expect(error.step).toBe("extract");
    expect(error.message).toContain("Resources `a` and `b` both load table `users` with different hints");
  });

  it("should refuse to extract an exhausted generator object again", async () => {
    const p = newPipeline("res_exhausted");
    function* gen(): Generator<{ id: number }> {
      yield { id: 1 };
    }
    const once = dlt.resource(gen(), { name: "once" });
    await p.run(once);
    const error = await stepError(p.run(once));
    expect(error.message).toMatch(/Resource `once` wraps a generator that was already iterated/);
  });
});

describe("dlt.source", () => {
  const getIssues = (): dlt.DltResource =>
    dlt.resource(
      async function* get_issues(
        updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
      ) {
        yield* paginate("issues", { since: updatedAt.lastValue, per_page: 100 });
      },
      { tableName: "issues", writeDisposition: "merge", primaryKey: "id" },
    );
  const getComments = (): dlt.DltResource =>
    dlt.resource(
      async function* get_comments(
        updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
      ) {
        yield* paginate("comments", { since: updatedAt.lastValue, per_page: 100 });
      },
      { tableName: "comments", writeDisposition: "merge", primaryKey: "id" },
    );

  it("should load the tutorial's github_source: a source returning resources, named after the function", async () => {
    const githubSource = dlt.source(function github_source() {
      return [getIssues(), getComments()];
    });
    const p = newPipeline("github_with_source");
    await p.run(githubSource());
    expect(await count(p, "issues")).toBe(3);
    expect(await count(p, "comments")).toBe(2);
    // the source name is the schema name and the state key
    expect(p.defaultSchemaName).toBe("github_source");
    const state = p.state.sources?.github_source?.resources?.get_issues?.incremental as Record<
      string,
      { last_value: unknown }
    >;
    expect(state.updated_at?.last_value).toBe("2024-01-03T00:00:00Z");

    api.issues?.push({ id: 4, title: "new", updated_at: "2024-01-04T00:00:00Z" });
    const info = await p.run(githubSource());
    expect(info.hasFailedJobs).toBe(false);
    expect(await count(p, "issues")).toBe(4);
  });

  it("should load dynamic resources yielded by a source (the tutorial's dynamic resources step)", async () => {
    const fetchGithubData = (endpoint: string, params: Record<string, unknown> = {}) =>
      paginate(endpoint, params);
    const githubSource = dlt.source(function* github_source() {
      for (const endpoint of ["issues", "comments", "traffic/clones"]) {
        const params = { per_page: 100 };
        yield dlt.resource(fetchGithubData(endpoint, params), {
          name: endpoint,
          writeDisposition: "merge",
          primaryKey: "id",
        });
      }
    });
    const p = newPipeline("github_dynamic_source");
    await p.run(githubSource());
    expect(await count(p, "issues")).toBe(3);
    expect(await count(p, "comments")).toBe(2);
    expect(await count(p, "traffic_clones")).toBe(1);
    // a new call makes fresh generators; merge keeps one row per id
    await p.run(githubSource());
    expect(await count(p, "issues")).toBe(3);
  });

  it("should load only selected resources, and apply source options to the schema", async () => {
    const nested = dlt.source(
      function shop() {
        return [
          dlt.resource([{ id: 1, lines: [{ sku: "a" }, { sku: "b" }] }], { name: "orders" }),
          dlt.resource([{ id: 9 }], { name: "users" }),
        ];
      },
      { maxTableNesting: 0 },
    );
    const p = newPipeline("source_selection");
    await p.run(nested().withResources("orders"));
    expect(await count(p, "orders")).toBe(1);
    const tables = await rows(
      p,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'data' AND table_name IN ('users', 'orders__lines')",
    );
    // users was not selected; max nesting 0 keeps the list in a json column
    expect(tables).toEqual([]);
  });

  it("should keep user state from dlt.current across runs", async () => {
    const p = newPipeline("source_state");
    const counter = dlt.source(function counter() {
      return dlt.resource(function* runs() {
        const state = dlt.current.resourceState();
        const run = ((state.run as number | undefined) ?? 0) + 1;
        state.run = run;
        dlt.current.sourceState().last_run_label = `run ${run}`;
        yield { run };
      });
    });
    await p.run(counter());
    await p.run(counter());
    expect(await rows(p, "SELECT run::INT AS run FROM data.runs ORDER BY run")).toEqual([
      { run: 1 },
      { run: 2 },
    ]);
    expect(p.state.sources?.counter).toEqual({ last_run_label: "run 2", resources: { runs: { run: 2 } } });
  });
});

describe("dlt.transformer and dlt.defer", () => {
  it("should feed issues into their comments, with dataFrom and with pipe", async () => {
    const issues = dlt.resource(
      async function* issues() {
        yield* paginate("issues");
      },
      { primaryKey: "id" },
    );
    const comments = dlt.transformer(
      async function* comments(page: { id: number }[]) {
        for (const issue of page) {
          for (const c of api.comments ?? []) if (c.issue === issue.id) yield { ...c };
        }
      },
      { dataFrom: issues, primaryKey: "id", writeDisposition: "merge" },
    );
    const p = newPipeline("transformers");
    await p.run([issues, comments]);
    expect(await count(p, "issues")).toBe(3);
    expect(await count(p, "comments")).toBe(2);

    // paginate() yields pages: the transformer receives each page
    const labels = dlt.transformer(
      (page: { id: number; title: string }[]) =>
        page.map((issue) => ({ issue_id: issue.id, label: issue.title.toUpperCase() })),
      { name: "labels" },
    );
    const q = newPipeline("transformers_pipe");
    await q.run(issues.withSelected(false).pipe(labels));
    expect(await rows(q, "SELECT label FROM data.labels ORDER BY issue_id")).toEqual([
      { label: "BUG" },
      { label: "FEATURE" },
      { label: "DOCS" },
    ]);
  });

  it("should run deferred calls concurrently and load every result", async () => {
    let active = 0;
    let max = 0;
    const details = dlt.defer(async (id: number) => {
      active++;
      max = Math.max(max, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return { id, detail: `issue ${id}` };
    });
    const res = dlt.resource(function* issue_details() {
      for (let id = 1; id <= 30; id++) yield details(id);
    });
    const p = newPipeline("deferred");
    await p.run(res);
    expect(await count(p, "issue_details")).toBe(30);
    expect(max).toBeGreaterThan(1);
    expect(max).toBeLessThanOrEqual(20);
  });
});
