/**
 * Incremental loading through the public API on a real DuckDB file (REFERENCE §5, §6): cursors bound
 * as default parameters, state stored with the data, restored from the destination on a fresh
 * working folder, and a bounded state row for many rows sharing one cursor value.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncrementalColumnState } from "@tsdlt/extract";
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

async function ids(p: dlt.Pipeline, table: string): Promise<number[]> {
  const rows = await p.query(`SELECT id::INT AS id FROM data.${table} ORDER BY id`);
  return rows.map((r) => r.id as number);
}

type Issue = { id: number; title: string; updated_at: string };

/** The in-memory "GitHub API": issues, filtered by `since` like the real `since` parameter. */
let server: Issue[];
function listIssues(since: string | undefined): Issue[] {
  return server.filter((i) => since === undefined || i.updated_at >= since).map((i) => ({ ...i }));
}

/** The tutorial's get_issues resource; records the `since` it sends. */
function getIssues(sent: (string | undefined)[]): dlt.DltResource {
  return dlt.resource(
    async function* get_issues(
      updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
    ) {
      sent.push(updatedAt.lastValue);
      const page = listIssues(updatedAt.lastValue);
      for (let i = 0; i < page.length; i += 2) yield page.slice(i, i + 2);
    },
    { tableName: "issues", writeDisposition: "merge", primaryKey: "id" },
  );
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-incremental-"));
  server = [
    { id: 1, title: "a", updated_at: "2024-01-01T00:00:00Z" },
    { id: 2, title: "b", updated_at: "2024-01-02T00:00:00Z" },
    { id: 3, title: "c", updated_at: "2024-01-03T00:00:00Z" },
  ];
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("incremental loading end to end", () => {
  it("should pass lastValue to the API and merge updated rows (the tutorial's incremental_merge)", async () => {
    const sent: (string | undefined)[] = [];
    const p = newPipeline("github_issues_merge");
    await p.run(getIssues(sent));
    expect(await ids(p, "issues")).toEqual([1, 2, 3]);

    server[0] = { id: 1, title: "a edited", updated_at: "2024-01-05T00:00:00Z" };
    server.push({ id: 4, title: "d", updated_at: "2024-01-04T00:00:00Z" });
    const info = await p.run(getIssues(sent));
    expect(sent).toEqual(["1970-01-01T00:00:00Z", "2024-01-03T00:00:00Z"]);
    expect(info.hasFailedJobs).toBe(false);
    expect(await p.query("SELECT id::INT AS id, title FROM data.issues ORDER BY id")).toEqual([
      { id: 1, title: "a edited" },
      { id: 2, title: "b" },
      { id: 3, title: "c" },
      { id: 4, title: "d" },
    ]);
    // the cursor column carries the incremental hint
    const column = p.defaultSchema.getTable("issues")?.columns.updated_at;
    expect(column?.incremental).toBe(true);
  });

  it("should not load rows again on an append resource (boundary deduplication)", async () => {
    const p = newPipeline("append_dedup");
    const events = () =>
      dlt.resource(() => listIssues(undefined), {
        name: "events",
        primaryKey: "id",
        incremental: dlt.sources.incremental("updated_at"),
      });
    await p.run(events());
    server.push({ id: 4, title: "d", updated_at: "2024-01-03T00:00:00Z" });
    await p.run(events());
    // row 3 shares the last cursor value with the new row 4: only 4 is added
    expect(await ids(p, "events")).toEqual([1, 2, 3, 4]);
  });

  it("should continue from the destination's state after the local working folder is deleted", async () => {
    const sent: (string | undefined)[] = [];
    const appendIssues = () =>
      dlt.resource(
        async function* issues(
          updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
        ) {
          sent.push(updatedAt.lastValue);
          // an API that ignores `since`: the incremental filters what was loaded before
          yield listIssues(undefined);
        },
        { primaryKey: "id" },
      );
    const first = newPipeline("restore_state");
    await first.run(appendIssues());
    expect(await ids(first, "issues")).toEqual([1, 2, 3]);

    // a fresh machine: same pipeline name and destination, no working folder
    rmSync(first.workingDir, { recursive: true, force: true });
    server.push({ id: 4, title: "d", updated_at: "2024-01-04T00:00:00Z" });
    const second = newPipeline("restore_state");
    expect(second.state.sources).toBeUndefined();
    await second.run(appendIssues());

    expect(sent).toEqual(["1970-01-01T00:00:00Z", "2024-01-03T00:00:00Z"]);
    expect(await ids(second, "issues")).toEqual([1, 2, 3, 4]);
    const state = second.state.sources?.restore_state?.resources?.issues?.incremental as Record<
      string,
      { last_value: unknown }
    >;
    expect(state.updated_at?.last_value).toBe("2024-01-04T00:00:00Z");
  });

  it("should keep the state row small when 100,000 rows share one cursor value", async () => {
    const p = newPipeline("bounded_state");
    const sameStamp = dlt.resource(
      function* bulk() {
        for (let page = 0; page < 100; page++) {
          yield Array.from({ length: 1000 }, (_, i) => ({
            id: page * 1000 + i,
            updated_at: "2024-06-01T00:00:00Z",
          }));
        }
      },
      { incremental: dlt.sources.incremental("updated_at"), primaryKey: "id" },
    );
    await p.run(sameStamp);
    const [count] = await p.query("SELECT count(*)::INT AS n FROM data.bulk");
    expect(count?.n).toBe(100_000);
    const [row] = await p.query(
      "SELECT length(state)::INT AS chars FROM data._dlt_pipeline_state ORDER BY created_at DESC LIMIT 1",
    );
    // measured in the extract tests: ~280 characters (dlt would store ~2.2 million)
    expect(row?.chars).toBeLessThan(1000);
    const cursors = (p.state.sources?.bounded_state?.resources?.bulk?.incremental ?? {}) as Record<
      string,
      IncrementalColumnState
    >;
    const cursor = cursors.updated_at;
    expect(cursor?.unique_hashes).toEqual([]);
    expect(cursor?.unique_hashes_overflow).toBe(true);
  });

  it("should backfill a range with endValue without touching the state", async () => {
    const p = newPipeline("backfill");
    const ranged = dlt.resource(() => listIssues(undefined), {
      name: "issues",
      incremental: dlt.sources.incremental("updated_at", {
        initialValue: "2024-01-02T00:00:00Z",
        endValue: "2024-01-03T00:00:00Z",
      }),
    });
    await p.run(ranged);
    expect(await ids(p, "issues")).toEqual([2]);
    expect(p.state.sources?.backfill?.resources?.issues).toBeUndefined();
  });

  it("should keep cursors of a source's resources under the source name", async () => {
    const sent: (string | undefined)[] = [];
    const github = dlt.source(function github() {
      return [getIssues(sent)];
    });
    const p = newPipeline("source_cursor");
    await p.run(github());
    server.push({ id: 5, title: "e", updated_at: "2024-02-01T00:00:00Z" });
    await p.run(github());
    expect(sent).toEqual(["1970-01-01T00:00:00Z", "2024-01-03T00:00:00Z"]);
    expect(await ids(p, "issues")).toEqual([1, 2, 3, 5]);
    expect(Object.keys(p.state.sources ?? {})).toEqual(["github"]);
  });
});
