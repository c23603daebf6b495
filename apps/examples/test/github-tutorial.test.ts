/**
 * The GitHub steps of the getting-started tutorial, run like a user would (`node dist/<example>.js`
 * in a project folder) against a local GitHub API replaying recorded responses (`github-server.ts`),
 * with each table checked through a DuckDB connection of the test's own.
 *
 * The recording (@octokit/fixtures `paginate-issues`: 13 open issues, all created and updated at
 * 2017-10-10T16:00:00Z) has no updates between runs, so second runs are served the committed
 * `fixtures/github-next-day.json`: issue 13 renamed, issue 5 commented (comment 503), issue 14 created
 * (comment 1401) — three issues updated after the first run's cursor.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GithubServer, startGithubServer } from "./github-server.js";
import { query, type RunResult, runExample } from "./run-example.js";

const RECORDED_AT = "2017-10-10T16:00:00Z";
const NEXT_DAY_LAST_UPDATE = "2017-10-11T10:30:00Z";
const ISSUES_PATH = "/repos/dlt-hub/dlt/issues";

let github: GithubServer;
let root: string;
let project: string;
let env: Record<string, string>;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-github-tutorial-"));
  project = join(root, "project");
  mkdirSync(project);
  mkdirSync(join(root, "home"));
  github = await startGithubServer();
  env = {
    HOME: join(root, "home"),
    DLT_DATA_DIR: join(root, "dlt-data"),
    SOURCES__GITHUB__BASE_URL: github.url,
  };
});

afterEach(async () => {
  await github.close();
  rmSync(root, { recursive: true, force: true });
});

/** Runs `script`; expects success and dlt's LoadInfo lines for `pipeline` / `dataset` at the end. */
async function run(script: string, pipeline: string, dataset: string): Promise<RunResult> {
  const result = await runExample(script, project, env);
  expect(result.stderr).not.toMatch(/Error|failed/);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`^Pipeline ${pipeline} load step completed in .+$`, "m"));
  expect(result.stdout).toContain(
    `1 load package(s) were loaded to destination duckdb and into dataset ${dataset}\n`,
  );
  expect(result.stdout).toContain(
    `The duckdb destination used duckdb:///${join(project, `${pipeline}.duckdb`)}`,
  );
  expect(result.stdout).toMatch(/^Load package \d+\.\d+ is LOADED and contains no failed jobs$/m);
  return result;
}

/** Requests received since the last call, as parsed URLs (the log is cleared). */
function takeRequests(): URL[] {
  const urls = github.server.requests.map((r) => r.url);
  github.server.resetStats();
  return urls;
}

function rows(db: string, sql: string): Promise<Record<string, unknown>[]> {
  return query(join(project, db), sql);
}

async function issueRows(db: string, dataset: string): Promise<[number, string, string][]> {
  const found = await rows(
    db,
    `SELECT number::INT AS number, title, updated_at::VARCHAR AS updated_at FROM ${dataset}.issues ORDER BY number, updated_at`,
  );
  return found.map((r) => [r.number as number, r.title as string, r.updated_at as string]);
}

/** The query of the first request, as an object. */
function queryOf(url: URL | undefined): Record<string, string> {
  return Object.fromEntries(url?.searchParams ?? []);
}

describe("create and run a pipeline (requests helper), append or replace", () => {
  it("should load the first page of issues and append a second copy on the next run", async () => {
    // the base URL from .dlt/config.toml this time, instead of the environment
    mkdirSync(join(project, ".dlt"));
    writeFileSync(join(project, ".dlt", "config.toml"), `[sources.github]\nbase_url = "${github.url}"\n`);
    const { SOURCES__GITHUB__BASE_URL: _fromFile, ...withoutEnv } = env;
    env = withoutEnv;

    await run("github-issues.js", "github_issues", "github_data");
    // one request, no query: GitHub answers with its first page (capped at 5 issues by the server)
    expect(takeRequests().map((u) => u.pathname + u.search)).toEqual([ISSUES_PATH]);
    expect(await rows("github_issues.duckdb", "SELECT count(*)::INT AS n FROM github_data.issues")).toEqual([
      { n: 5 },
    ]);
    // nested objects are flattened into columns, as in dlt
    const columns = await rows(
      "github_issues.duckdb",
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'github_data' AND table_name = 'issues' AND column_name IN ('user__login', 'reactions__total_count', 'created_at')",
    );
    expect(columns.map((c) => c.column_name).sort()).toEqual([
      "created_at",
      "reactions__total_count",
      "user__login",
    ]);

    await run("github-issues.js", "github_issues", "github_data");
    const counts = await rows(
      "github_issues.duckdb",
      "SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, count(DISTINCT _dlt_load_id)::INT AS loads FROM github_data.issues",
    );
    expect(counts).toEqual([{ n: 10, ids: 5, loads: 2 }]);
  });

  it("should keep one copy of the issues when the script says replace", async () => {
    await run("github-issues.js", "github_issues", "github_data");
    await run("github-issues.js", "github_issues", "github_data");
    expect(await rows("github_issues.duckdb", "SELECT count(*)::INT AS n FROM github_data.issues")).toEqual([
      { n: 10 },
    ]);
    // the tutorial's next step: the same pipeline, now with writeDisposition "replace"
    await run("github-issues-replace.js", "github_issues", "github_data");
    await run("github-issues-replace.js", "github_issues", "github_data");
    const [last] = await rows(
      "github_issues.duckdb",
      "SELECT max(load_id) AS id FROM github_data._dlt_loads WHERE status = 0",
    );
    expect(
      await rows(
        "github_issues.duckdb",
        "SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, min(_dlt_load_id) AS load FROM github_data.issues",
      ),
    ).toEqual([{ n: 5, ids: 5, load: last?.id }]);
  });
});

describe("load only new data: incremental on created_at, append", () => {
  it("should append only what is new since the last run, following Link pages and stopping early", async () => {
    const first = await run(
      "github-issues-incremental.js",
      "github_issues_incremental",
      "github_data_append",
    );
    expect(first.stdout).toContain("{ _dlt_pipeline_state: 1, issues: 13 }\n------\n");
    const pages = takeRequests();
    // three pages of 5, 5 and 3 issues, the next ones taken from the Link header
    expect(pages.map((u) => queryOf(u))).toEqual([
      { per_page: "100", sort: "created", direction: "desc", state: "open" },
      { per_page: "100", sort: "created", direction: "desc", state: "open", page: "2" },
      { per_page: "100", sort: "created", direction: "desc", state: "open", page: "3" },
    ]);
    expect(await issueRows("github_issues_incremental.duckdb", "github_data_append")).toHaveLength(13);

    github.variant = "next-day";
    const second = await run(
      "github-issues-incremental.js",
      "github_issues_incremental",
      "github_data_append",
    );
    // Newest first: issue 14 is new; issues 13..10 were created exactly at the stored cursor value.
    // Rows on the cursor are deduplicated by content (there is no primary key): 13 was renamed, so it
    // is appended again (append never updates a row — hence merge in the next step); 12 is unchanged
    // and dropped, which with `rowOrder: "desc"` means nothing older can follow: no second page.
    expect(second.stdout).toContain("{ _dlt_pipeline_state: 1, issues: 2 }\n------\n");
    expect(takeRequests().map((u) => u.searchParams.get("page"))).toEqual([null]);
    const stored = await issueRows("github_issues_incremental.duckdb", "github_data_append");
    expect(stored).toHaveLength(15);
    expect(stored.filter(([n]) => n === 13).map(([, title]) => title)).toEqual([
      "Test issue 13",
      "Test issue 13 (renamed)",
    ]);
    expect(stored.filter(([n]) => n === 14)).toEqual([[14, "Test issue 14", "2017-10-11 08:00:00+00"]]);
  });
});

describe("update and deduplicate: incremental on updated_at + merge on id", () => {
  for (const [script, step] of [
    ["github-issues-merge.js", "requests helper and Link loop"],
    ["github-issues-paginate.js", "paginate() helper"],
  ] as const) {
    it(`should request only since=<last updated_at> and keep one row per issue (${step})`, async () => {
      const db = "github_issues_merge.duckdb";
      const first = await run(script, "github_issues_merge", "github_data_merge");
      expect(first.stdout).toContain("{ _dlt_pipeline_state: 1, issues: 13 }\n------\n");
      const firstRequests = takeRequests();
      expect(firstRequests.map((u) => u.pathname)).toEqual([ISSUES_PATH, ISSUES_PATH, ISSUES_PATH]);
      expect(queryOf(firstRequests[0])).toEqual({
        since: "1970-01-01T00:00:00Z",
        per_page: "100",
        sort: "updated",
        direction: "desc",
        state: "open",
      });
      expect(firstRequests.map((u) => u.searchParams.get("page"))).toEqual([null, "2", "3"]);
      const recorded = await issueRows(db, "github_data_merge");
      expect(recorded).toHaveLength(13);
      expect(recorded.every(([, , updated]) => updated === "2017-10-10 16:00:00+00")).toBe(true);

      // Second run, against the next-day recording: only since=<last updated_at of run 1> is asked for.
      github.variant = "next-day";
      const second = await run(script, "github_issues_merge", "github_data_merge");
      const secondRequests = takeRequests();
      expect(secondRequests.map((u) => u.searchParams.get("since"))).toEqual([
        RECORDED_AT,
        RECORDED_AT,
        RECORDED_AT,
      ]);
      // 14 issues come back (all updated at or after the cursor); the 11 unchanged ones sit exactly on
      // the cursor and are dropped by the boundary deduplication: 3 rows reach the destination
      expect(second.stdout).toContain("{ _dlt_pipeline_state: 1, issues: 3 }\n------\n");
      const merged = await issueRows(db, "github_data_merge");
      expect(merged).toHaveLength(14);
      expect(new Set(merged.map(([n]) => n)).size).toBe(14);
      expect(merged.find(([n]) => n === 13)).toEqual([
        13,
        "Test issue 13 (renamed)",
        "2017-10-11 09:00:00+00",
      ]);
      expect(merged.find(([n]) => n === 5)).toEqual([5, "Test issue 5", "2017-10-11 10:30:00+00"]);
      expect(merged.find(([n]) => n === 14)).toEqual([14, "Test issue 14", "2017-10-11 08:00:00+00"]);
      expect(merged.find(([n]) => n === 1)).toEqual([1, "Test issue 1", "2017-10-10 16:00:00+00"]);
      const [comments] = await rows(
        db,
        "SELECT comments::INT AS c FROM github_data_merge.issues WHERE number = 5",
      );
      expect(comments?.c).toBe(43);

      // Third run, nothing changed: one request from the new cursor, the boundary issue is dropped.
      await runExample(script, project, env);
      const third = takeRequests();
      expect(third.map((u) => u.searchParams.get("since"))).toEqual([NEXT_DAY_LAST_UPDATE]);
      expect(await issueRows(db, "github_data_merge")).toEqual(merged);
      const loads = await rows(db, "SELECT count(*)::INT AS n FROM github_data_merge._dlt_loads");
      expect(loads[0]?.n).toBeGreaterThanOrEqual(2);
    });
  }
});

describe("use source decorator: github_source with issues and a comments transformer", () => {
  it("should load issues and their comments, and refresh only the comments of updated issues", async () => {
    const db = "github_with_source.duckdb";
    await run("github-with-source.js", "github_with_source", "github_data");
    const first = takeRequests();
    expect(first.filter((u) => u.pathname === ISSUES_PATH)).toHaveLength(3);
    expect(
      first
        .filter((u) => u.pathname.endsWith("/comments"))
        .map((u) => Number(u.pathname.split("/").at(-2)))
        .sort((a, b) => a - b),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(
      await rows(
        db,
        "SELECT (SELECT count(*) FROM github_data.issues)::INT AS issues, (SELECT count(*) FROM github_data.comments)::INT AS comments",
      ),
    ).toEqual([{ issues: 13, comments: 13 }]);
    const [schema] = await rows(db, "SELECT schema_name FROM github_data._dlt_loads LIMIT 1");
    expect(schema?.schema_name).toBe("github_source");

    github.variant = "next-day";
    await run("github-with-source.js", "github_with_source", "github_data");
    const second = takeRequests();
    expect(second.find((u) => u.pathname === ISSUES_PATH)?.searchParams.get("since")).toBe(RECORDED_AT);
    expect(
      second
        .filter((u) => u.pathname.endsWith("/comments"))
        .map((u) => Number(u.pathname.split("/").at(-2)))
        .sort((a, b) => a - b),
    ).toEqual([5, 13, 14]);
    const comments = await rows(
      db,
      "SELECT id::INT AS id, body FROM github_data.comments WHERE id IN (503, 1401) ORDER BY id",
    );
    expect(comments).toEqual([
      { id: 503, body: "Comment 3 on issue 5" },
      { id: 1401, body: "Comment 1 on issue 14" },
    ]);
    expect(
      await rows(
        db,
        "SELECT (SELECT count(*) FROM github_data.issues)::INT AS issues, (SELECT count(DISTINCT id) FROM github_data.issues)::INT AS issue_ids, (SELECT count(*) FROM github_data.comments)::INT AS comments, (SELECT count(DISTINCT id) FROM github_data.comments)::INT AS comment_ids",
      ),
    ).toEqual([{ issues: 14, issue_ids: 14, comments: 15, comment_ids: 15 }]);
  });
});

describe("dynamic resources: one resource per endpoint", () => {
  it("should create the issues and comments resources in a loop and merge both on id", async () => {
    const db = "github_dynamic_source.duckdb";
    const first = await run("github-dynamic-source.js", "github_dynamic_source", "github_data");
    expect(first.stdout).toContain("{ _dlt_pipeline_state: 1, comments: 13, issues: 13 }\n------\n");
    const paths = takeRequests().map((u) => u.pathname + u.search);
    expect(paths.filter((p) => p.startsWith(`${ISSUES_PATH}?`))).toHaveLength(3);
    expect(paths.filter((p) => p.startsWith("/repos/dlt-hub/dlt/comments?"))).toHaveLength(3);

    github.variant = "next-day";
    await run("github-dynamic-source.js", "github_dynamic_source", "github_data");
    expect(
      await rows(
        db,
        "SELECT (SELECT count(*) FROM github_data.issues)::INT AS issues, (SELECT count(DISTINCT id) FROM github_data.issues)::INT AS issue_ids, (SELECT count(*) FROM github_data.comments)::INT AS comments, (SELECT count(DISTINCT id) FROM github_data.comments)::INT AS comment_ids",
      ),
    ).toEqual([{ issues: 14, issue_ids: 14, comments: 15, comment_ids: 15 }]);
    const [renamed] = await rows(db, "SELECT title FROM github_data.issues WHERE number = 13");
    expect(renamed?.title).toBe("Test issue 13 (renamed)");
  });
});
