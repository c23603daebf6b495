/**
 * The declarative REST API example (`rest-api-github.ts`: `restApiResources()` + `dlt.restApiSource()`)
 * against the local GitHub API of `github-server.ts`: issues incremental on `updated_at` and merged on
 * `id`, comments as a child resource requested per issue. The second run is served the committed
 * next-day recording (`fixtures/github-next-day.json`), since the octokit recording has no updates.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GithubServer, startGithubServer } from "./github-server.js";
import { query, runExample } from "./run-example.js";

const ISSUES_PATH = "/repos/dlt-hub/dlt/issues";

let github: GithubServer;
let root: string;
let project: string;
let env: Record<string, string>;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-rest-api-example-"));
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

function rows(sql: string): Promise<Record<string, unknown>[]> {
  return query(join(project, "rest_api_github.duckdb"), sql);
}

async function runOnce(extraEnv: Record<string, string> = {}): Promise<string> {
  const result = await runExample("rest-api-github.js", project, { ...env, ...extraEnv });
  expect(result.stderr).not.toMatch(/Error|failed/);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(
    "1 load package(s) were loaded to destination duckdb and into dataset rest_api_data\n",
  );
  expect(result.stdout).toMatch(/^Load package \d+\.\d+ is LOADED and contains no failed jobs$/m);
  return result.stdout;
}

function takeRequests(): URL[] {
  const urls = github.server.requests.map((r) => r.url);
  github.server.resetStats();
  return urls;
}

function commentedIssues(urls: readonly URL[]): number[] {
  return urls
    .filter((u) => u.pathname.endsWith("/comments"))
    .map((u) => Number(u.pathname.split("/").at(-2)))
    .sort((a, b) => a - b);
}

const COUNTS =
  "SELECT (SELECT count(*) FROM rest_api_data.issues)::INT AS issues, (SELECT count(DISTINCT id) FROM rest_api_data.issues)::INT AS issue_ids, (SELECT count(*) FROM rest_api_data.issue_comments)::INT AS comments, (SELECT count(DISTINCT id) FROM rest_api_data.issue_comments)::INT AS comment_ids";

describe("declarative rest_api example: GitHub issues + comments as a child resource", () => {
  it("should load issues and per-issue comments, then only what changed since the stored cursor", async () => {
    const first = await runOnce();
    expect(first).toContain("{ _dlt_pipeline_state: 1, issue_comments: 13, issues: 13 }\n------\n");
    const firstRequests = takeRequests();
    const issuePages = firstRequests.filter((u) => u.pathname === ISSUES_PATH);
    expect(issuePages.map((u) => Object.fromEntries(u.searchParams))).toEqual([
      { per_page: "100", sort: "updated", direction: "desc", state: "open", since: "1970-01-01T00:00:00Z" },
      {
        per_page: "100",
        sort: "updated",
        direction: "desc",
        state: "open",
        since: "1970-01-01T00:00:00Z",
        page: "2",
      },
      {
        per_page: "100",
        sort: "updated",
        direction: "desc",
        state: "open",
        since: "1970-01-01T00:00:00Z",
        page: "3",
      },
    ]);
    // one comments request per issue, with the defaults' per_page
    expect(commentedIssues(firstRequests)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(
      firstRequests
        .filter((u) => u.pathname.endsWith("/comments"))
        .every((u) => u.searchParams.get("per_page") === "100"),
    ).toBe(true);
    expect(await rows(COUNTS)).toEqual([{ issues: 13, issue_ids: 13, comments: 13, comment_ids: 13 }]);
    // includeFromParent: ["id"] → the issue's id in every comment
    const linked = await rows(
      "SELECT c.id::INT AS comment, i.number::INT AS issue FROM rest_api_data.issue_comments c JOIN rest_api_data.issues i ON c._issues_id = i.id WHERE c.id IN (101, 1301) ORDER BY 1",
    );
    expect(linked).toEqual([
      { comment: 101, issue: 1 },
      { comment: 1301, issue: 13 },
    ]);
    const [schema] = await rows("SELECT schema_name FROM rest_api_data._dlt_loads LIMIT 1");
    expect(schema?.schema_name).toBe("github");

    github.variant = "next-day";
    const second = await runOnce();
    const secondRequests = takeRequests();
    expect(
      secondRequests.filter((u) => u.pathname === ISSUES_PATH).map((u) => u.searchParams.get("since")),
    ).toEqual(["2017-10-10T16:00:00Z", "2017-10-10T16:00:00Z", "2017-10-10T16:00:00Z"]);
    // children follow the parent's incremental filter: only the three updated issues are asked for
    // their comments: 501, 502 and 1301 again (merged), 503 and 1401 new
    expect(commentedIssues(secondRequests)).toEqual([5, 13, 14]);
    expect(second).toContain("{ _dlt_pipeline_state: 1, issue_comments: 5, issues: 3 }\n------\n");
    expect(await rows(COUNTS)).toEqual([{ issues: 14, issue_ids: 14, comments: 15, comment_ids: 15 }]);
    expect(
      await rows(
        "SELECT number::INT AS number, title FROM rest_api_data.issues WHERE number IN (13, 14) ORDER BY 1",
      ),
    ).toEqual([
      { number: 13, title: "Test issue 13 (renamed)" },
      { number: 14, title: "Test issue 14" },
    ]);

    // nothing changed since: one request from the new cursor, nothing new reaches the tables
    await runExample("rest-api-github.js", project, env);
    const third = takeRequests();
    expect(third.filter((u) => u.pathname === ISSUES_PATH).map((u) => u.searchParams.get("since"))).toEqual([
      "2017-10-11T10:30:00Z",
    ]);
    expect(commentedIssues(third)).toEqual([]);
    expect(await rows(COUNTS)).toEqual([{ issues: 14, issue_ids: 14, comments: 15, comment_ids: 15 }]);
  });

  it("should send the configured token as a bearer token on every request", async () => {
    const token = "ghp_RestApiExampleToken0123";
    const stdout = await runOnce({ SOURCES__GITHUB__ACCESS_TOKEN: token });
    expect(stdout).not.toContain(token);
    const authorizations = github.server.requests.map((r) => r.headers.authorization);
    expect(authorizations.length).toBeGreaterThan(13);
    expect(authorizations.every((a) => a === `Bearer ${token}`)).toBe(true);
  });
});
