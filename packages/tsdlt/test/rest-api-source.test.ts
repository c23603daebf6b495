/**
 * `restApiSource()`: REST API resource descriptors (the shape `restApiResources()` of
 * `@tsdlt/rest-client` returns, built by hand here to test the adapter alone) loaded through a real
 * pipeline into a DuckDB file; then whole configs in one call, against a real local HTTP server.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

type Item = Record<string, unknown>;

interface FakeApi {
  issues: Item[];
  comments: Record<number, Item[]>;
  /** What each call received: `pages` with its cursor values, `childPages` with the parent numbers. */
  calls: { resource: string; parents?: number[]; since?: unknown; start?: unknown }[];
}

let root: string;
let api: FakeApi;

function newPipeline(name: string): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
    datasetName: "data",
  });
}

/** Pages of two items, like a paginated endpoint. */
async function* pagesOf(items: Item[]): AsyncGenerator<Item[]> {
  for (let i = 0; i < items.length; i += 2) yield items.slice(i, i + 2);
}

function notAChild(): never {
  throw new Error("not a child");
}

/** The issues endpoint: incremental on `updated_at`, `since` = the cursor's last value. */
function issuesDescriptor(
  overrides: Partial<dlt.RestApiResourceDescriptor> = {},
): dlt.RestApiResourceDescriptor {
  return {
    name: "issues",
    tableName: undefined,
    writeDisposition: "merge",
    primaryKey: "id",
    mergeKey: undefined,
    columns: undefined,
    maxTableNesting: undefined,
    schemaContract: undefined,
    selected: true,
    parallelized: false,
    parent: undefined,
    incremental: { cursorPath: "updated_at", initialValue: "1970-01-01T00:00:00Z" },
    pages(options) {
      const values = options?.incremental?.();
      const since = values?.lastValue as string | undefined;
      api.calls.push({ resource: "issues", since, start: values?.startValue });
      return pagesOf(api.issues.filter((i) => since === undefined || (i.updated_at as string) >= since));
    },
    childPages: notAChild,
    ...overrides,
  };
}

/** Comments of each issue, requested per parent item (`issues/{resources.issues.number}/comments`). */
function commentsDescriptor(
  overrides: Partial<dlt.RestApiResourceDescriptor> = {},
): dlt.RestApiResourceDescriptor {
  return {
    name: "issue_comments",
    tableName: undefined,
    writeDisposition: "merge",
    primaryKey: "id",
    mergeKey: undefined,
    columns: undefined,
    maxTableNesting: undefined,
    schemaContract: undefined,
    selected: true,
    parallelized: false,
    parent: { resource: "issues" },
    incremental: undefined,
    async *pages() {
      for await (const page of pagesOf(api.issues)) yield* this.childPages(page);
    },
    async *childPages(parents) {
      const numbers = parents.map((p) => (p as Item).number as number);
      api.calls.push({ resource: "issue_comments", parents: numbers });
      for (const n of numbers) {
        const items = (api.comments[n] ?? []).map((c) => ({ ...c, _issues_number: n }));
        if (items.length > 0) yield items;
      }
    },
    ...overrides,
  };
}

async function rows(p: dlt.Pipeline, sql: string): Promise<Record<string, unknown>[]> {
  return p.query(sql);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-rest-api-source-"));
  api = {
    issues: [
      { id: 10, number: 1, title: "one", updated_at: "2024-01-01T00:00:00Z" },
      { id: 20, number: 2, title: "two", updated_at: "2024-01-02T00:00:00Z" },
      { id: 30, number: 3, title: "three", updated_at: "2024-01-03T00:00:00Z" },
    ],
    comments: {
      1: [{ id: 101, body: "c1" }],
      3: [
        { id: 301, body: "c3a" },
        { id: 302, body: "c3b" },
      ],
    },
    calls: [],
  };
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("restApiSource", () => {
  it("should build a source named rest_api with a resource per root and a transformer per child", () => {
    const source = dlt.restApiSource([commentsDescriptor(), issuesDescriptor()]);
    expect(source.name).toBe("rest_api");
    // descriptor order is kept, even when a child comes first
    expect(source.resourceNames).toEqual(["issue_comments", "issues"]);
    const comments = source.resource("issue_comments");
    expect(comments.isTransformer).toBe(true);
    expect(comments.parent?.name).toBe("issues");
    const issues = source.resource("issues");
    expect(issues.isTransformer).toBe(false);
    expect(issues.writeDisposition).toBe("merge");
    expect(issues.hints.primaryKey).toBe("id");
    expect(issues.incremental?.cursorPath).toBe("updated_at");
    expect(dlt.restApiSource([issuesDescriptor()], { name: "github" }).name).toBe("github");
  });

  it("should load parents once, feed their pages to childPages and merge on the primary key", async () => {
    const p = newPipeline("rest_api_children");
    const info = await p.run(
      dlt.restApiSource([issuesDescriptor(), commentsDescriptor()], { name: "github" }),
    );
    expect(info.hasFailedJobs).toBe(false);
    expect(api.calls).toEqual([
      { resource: "issues", since: "1970-01-01T00:00:00Z", start: "1970-01-01T00:00:00Z" },
      { resource: "issue_comments", parents: [1, 2] },
      { resource: "issue_comments", parents: [3] },
    ]);
    expect(await rows(p, "SELECT id::INT AS id, title FROM data.issues ORDER BY id")).toEqual([
      { id: 10, title: "one" },
      { id: 20, title: "two" },
      { id: 30, title: "three" },
    ]);
    expect(
      await rows(p, "SELECT id::INT AS id, _issues_number::INT AS n FROM data.issue_comments ORDER BY id"),
    ).toEqual([
      { id: 101, n: 1 },
      { id: 301, n: 3 },
      { id: 302, n: 3 },
    ]);
    const schema = p.defaultSchema;
    expect(schema.name).toBe("github");
    expect(schema.tables.issues?.write_disposition).toBe("merge");
    expect(schema.tables.issues?.columns.id?.primary_key).toBe(true);
    expect(schema.tables.issues?.columns.updated_at?.incremental).toBe(true);
  });

  it("should send the stored cursor on the next run and keep one row per record", async () => {
    const p = newPipeline("rest_api_incremental");
    await p.run(dlt.restApiSource([issuesDescriptor(), commentsDescriptor()]));
    api.calls.length = 0;
    api.issues[0] = { ...api.issues[0], title: "one (edited)", updated_at: "2024-01-05T00:00:00Z" };
    api.issues.push({ id: 40, number: 4, title: "four", updated_at: "2024-01-04T00:00:00Z" });
    api.comments[4] = [{ id: 401, body: "c4" }];
    await p.run(dlt.restApiSource([issuesDescriptor(), commentsDescriptor()]));
    // the API is asked only for what changed since the last run's cursor (pages [1, 3] and [4]); the
    // boundary row (number 3, updated exactly at the cursor) is sent again and dropped by
    // deduplication, so its comments are not requested again
    expect(api.calls).toEqual([
      { resource: "issues", since: "2024-01-03T00:00:00Z", start: "2024-01-03T00:00:00Z" },
      { resource: "issue_comments", parents: [1] },
      { resource: "issue_comments", parents: [4] },
    ]);
    expect(await rows(p, "SELECT id::INT AS id, title FROM data.issues ORDER BY id")).toEqual([
      { id: 10, title: "one (edited)" },
      { id: 20, title: "two" },
      { id: 30, title: "three" },
      { id: 40, title: "four" },
    ]);
    expect(await rows(p, "SELECT id::INT AS id FROM data.issue_comments ORDER BY id")).toEqual([
      { id: 101 },
      { id: 301 },
      { id: 302 },
      { id: 401 },
    ]);
    const state = p.state.sources?.rest_api?.resources?.issues?.incremental as Record<
      string,
      { last_value: unknown }
    >;
    expect(state.updated_at?.last_value).toBe("2024-01-05T00:00:00Z");
  });

  it("should map hints: tableName, dlt's dict write disposition with snake_case keys, columns, selection", async () => {
    const p = newPipeline("rest_api_hints");
    const source = dlt.restApiSource([
      issuesDescriptor({
        tableName: "gh_issues",
        incremental: undefined,
        writeDisposition: { disposition: "merge", strategy: "scd2", validity_column_names: ["from", "to"] },
        primaryKey: undefined,
        columns: { title: { data_type: "text", nullable: false } },
      }),
      commentsDescriptor({ selected: false }),
    ]);
    const issues = source.resource("issues");
    expect(issues.hints.writeDisposition).toEqual({
      disposition: "merge",
      strategy: "scd2",
      validityColumnNames: ["from", "to"],
    });
    expect(issues.tableName).toBe("gh_issues");
    expect(source.resource("issue_comments").selected).toBe(false);
    await p.run(source);
    const tables = await rows(
      p,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'data' AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' ORDER BY 1",
    );
    expect(tables).toEqual([{ table_name: "gh_issues" }]);
    expect(
      await rows(
        p,
        'SELECT count(*)::INT AS n FROM data.gh_issues WHERE "to" IS NULL AND "from" IS NOT NULL',
      ),
    ).toEqual([{ n: 3 }]);
    expect(p.defaultSchema.tables.gh_issues?.columns.title?.nullable).toBe(false);
  });

  it("should let a child whose parent is not given walk the parent's pages itself", async () => {
    const p = newPipeline("rest_api_orphan");
    const source = dlt.restApiSource([commentsDescriptor()]);
    expect(source.resource("issue_comments").isTransformer).toBe(false);
    await p.run(source);
    expect(await rows(p, "SELECT count(*)::INT AS n FROM data.issue_comments")).toEqual([{ n: 3 }]);
  });

  it("should reject what is not a descriptor and names given twice", () => {
    expect(() => dlt.restApiSource([{ name: "x" } as unknown as dlt.RestApiResourceDescriptor])).toThrow(
      /restApiResources\(config\)/,
    );
    expect(() => dlt.restApiSource([issuesDescriptor(), issuesDescriptor()])).toThrow(
      "Resource `issues` is given twice.",
    );
  });
});

describe("restApiSource(config): dlt's rest_api_source in one call", () => {
  let server: Server;
  let base = "";
  const requests: string[] = [];

  beforeEach(async () => {
    requests.length = 0;
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", base);
      requests.push(url.pathname + url.search);
      const json = (body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(200, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === "/issues") {
        const page = url.searchParams.get("page") ?? "1";
        if (page === "1") {
          json(
            [
              { id: 10, number: 1, title: "one", updated_at: "2024-01-01T00:00:00Z" },
              { id: 20, number: 2, title: "two", updated_at: "2024-01-02T00:00:00Z" },
            ],
            { link: `<${base}/issues?per_page=2&page=2>; rel="next"` },
          );
        } else {
          json([{ id: 30, number: 3, title: "three", updated_at: "2024-01-03T00:00:00Z" }]);
        }
        return;
      }
      const comments = /^\/issues\/(\d+)\/comments$/.exec(url.pathname);
      if (comments) {
        const n = Number(comments[1]);
        json(n === 2 ? [] : [{ id: n * 100 + 1, body: `on ${n}` }]);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((done) => server.close(() => done()));
  });

  it("should take { client, resourceDefaults, resources } and load parents and children from a real server", async () => {
    const source = dlt.restApiSource(
      {
        client: { baseUrl: `${base}/`, paginator: "header_link" },
        resourceDefaults: {
          primaryKey: "id",
          writeDisposition: "merge",
          endpoint: { params: { per_page: 2 } },
        },
        resources: [
          {
            name: "issues",
            endpoint: {
              path: "issues",
              params: { since: "{incremental.last_value}" },
              incremental: { cursorPath: "updated_at", initialValue: "1970-01-01T00:00:00Z" },
            },
          },
          {
            name: "issue_comments",
            endpoint: "issues/{resources.issues.number}/comments",
            includeFromParent: ["id"],
          },
        ],
      },
      { name: "github" },
    );
    // Under vitest the REST client is imported asynchronously (see the next test for plain Node).
    await source.resolve();
    expect(source.resourceNames).toEqual(["issues", "issue_comments"]);
    expect(source.resources.issue_comments?.isTransformer).toBe(true);

    const p = newPipeline("rest_api_one_call");
    const info = await p.run(source);
    expect(info.hasFailedJobs).toBe(false);
    // Pages are prefetched and children requested concurrently: compare without the order.
    expect([...requests].sort()).toEqual([
      "/issues/1/comments?per_page=2",
      "/issues/2/comments?per_page=2",
      "/issues/3/comments?per_page=2",
      "/issues?per_page=2&page=2",
      "/issues?per_page=2&since=1970-01-01T00%3A00%3A00Z",
    ]);
    expect(await rows(p, "SELECT id::INT AS id, title FROM data.issues ORDER BY id")).toEqual([
      { id: 10, title: "one" },
      { id: 20, title: "two" },
      { id: 30, title: "three" },
    ]);
    expect(
      await rows(p, "SELECT id::INT AS id, _issues_id::INT AS issue FROM data.issue_comments ORDER BY id"),
    ).toEqual([
      { id: 101, issue: 10 },
      { id: 301, issue: 30 },
    ]);
    expect(p.defaultSchema.tables.issues?.columns.id?.primary_key).toBe(true);
  });

  it("should have the resources at once in plain Node, which requires the REST client synchronously", () => {
    const entry = pathToFileURL(resolve(import.meta.dirname, "../dist/index.js")).href;
    const script = [
      `import * as dlt from ${JSON.stringify(entry)};`,
      'const s = dlt.restApiSource({ client: { baseUrl: "http://127.0.0.1:9/" }, resources: ["issues", { name: "comments", endpoint: "issues/{resources.issues.number}/comments" }] });',
      'console.log(s.isResolved, s.resourceNames.join(","), s.resources.comments.isTransformer);',
    ].join("\n");
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("true issues,comments true");
  });

  it("should fail, naming the resource, when a config refers to an undeclared resource", async () => {
    const config = {
      client: { baseUrl: `${base}/` },
      resources: ["issues", { name: "comments", endpoint: "issues/{resources.isues.number}/comments" }],
    };
    // Only a config the type checker cannot see (built at run time) gets this far.
    const build = async () => dlt.restApiSource(config as Parameters<typeof dlt.restApiSource>[0]).resolve();
    await expect(build()).rejects.toThrow(
      /Resource `comments` refers to resource `isues`, which is not declared/,
    );
    expect(() => dlt.restApiSource({} as never)).toThrow(/takes a REST API config/);
  });
});
