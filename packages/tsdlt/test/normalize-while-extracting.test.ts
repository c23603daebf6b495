/**
 * `pipeline.run()` normalizes while it extracts (issue 12): when resources wait on I/O, the files
 * extract closes are normalized while extraction goes on. The dataset is the one the separate
 * `extract()` / `normalize()` / `load()` steps produce, and a run whose extract fails leaves nothing
 * behind: the next run loads its data as if the failed one never happened.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Logger, PipelineStepFailed } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;
let messages: string[];
const logger: Logger = {
  debug: () => {},
  info: (m) => messages.push(m),
  warn: () => {},
  error: () => {},
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-stream-"));
  messages = [];
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function pipelineNamed(name: string): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
    datasetName: "issues_data",
    logger,
  });
}

const issue = (id: number) => ({
  id,
  title: id % 7 === 0 ? id : `issue ${id}`,
  created_at: `2024-01-${String((id % 28) + 1).padStart(2, "0")}T10:00:00Z`,
  user: { login: `user${id % 5}`, site_admin: id % 2 === 0 },
  labels: id % 3 === 0 ? [] : [{ name: "bug" }, { name: `label ${id % 4}` }],
  ...(id > 300 ? { closed_at: "2024-02-01T00:00:00Z" } : {}),
});

/** A REST-like resource: pages of 40 issues, each after a wait (the thread idles meanwhile). */
const slowIssues = (pages: number, options: { failAfter?: number } = {}) =>
  dlt.resource(
    async function* () {
      for (let page = 0; page < pages; page++) {
        await sleep(30);
        if (page === options.failAfter) throw new Error("the API went away");
        yield Array.from({ length: 40 }, (_, i) => issue(page * 40 + i + 1));
      }
    },
    { name: "issues", writeDisposition: "append" },
  );

/** Every row of `table` without the random row keys and load ids, in a stable order. */
async function tableRows(p: dlt.Pipeline, table: string): Promise<Record<string, unknown>[]> {
  const client = await p.sqlClient();
  try {
    const rows = await client.query(`SELECT * FROM ${client.qualifiedTableName(table)}`);
    return rows
      .map(({ _dlt_id: _i, _dlt_parent_id: _p, _dlt_load_id: _l, ...rest }) => rest)
      .map((row) => JSON.parse(JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? Number(v) : v))))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  } finally {
    await client[Symbol.asyncDispose]();
  }
}

/** The "N of M extracted file(s) were normalized while extracting" figures of the last run. */
function streamed(): { streamed: number; files: number } | undefined {
  const line = messages.findLast((m) => m.includes("normalized while extracting"));
  const match = /: (\d+) of (\d+) extracted file/.exec(line ?? "");
  return match ? { streamed: Number(match[1]), files: Number(match[2]) } : undefined;
}

describe("normalize while extracting", () => {
  it("should normalize the files of an I/O-bound extract during it, into the dataset the separate steps make", async () => {
    const streaming = pipelineNamed("streaming");
    const info = await streaming.run(slowIssues(30));
    expect(info.hasFailedJobs).toBe(false);
    const figures = streamed();
    expect(figures, "a file was normalized while extracting").toBeDefined();
    expect(figures?.streamed).toBeGreaterThan(0);
    expect(figures?.files).toBeGreaterThan(figures?.streamed ?? 0);

    const steps = pipelineNamed("steps");
    await steps.extract(slowIssues(30));
    await steps.normalize();
    await steps.load();

    for (const table of ["issues", "issues__labels"]) {
      const got = await tableRows(streaming, table);
      expect(got.length, table).toBe(table === "issues" ? 1200 : 1600);
      expect(got, table).toEqual(await tableRows(steps, table));
    }
    const columns = (p: dlt.Pipeline) =>
      Object.fromEntries(
        Object.values(p.defaultSchema.tables).map((t) => [
          t.name,
          Object.values(t.columns).map((c) => `${c.name}:${c.data_type}`),
        ]),
      );
    expect(columns(streaming)).toEqual(columns(steps));
    expect(streaming.defaultSchema.tables.issues?.columns.closed_at?.data_type).toBe("timestamp");
  });

  it("should normalize while extracting an incremental resource, and store its cursor", async () => {
    const p = pipelineNamed("incremental");
    const updates = dlt.resource(
      async function* (cursor = dlt.sources.incremental("id", { initialValue: 0 })) {
        for (let page = 0; page < 20; page++) {
          await sleep(30);
          yield Array.from({ length: 20 }, (_, i) => issue(page * 20 + i + 1)).filter(
            (row) => row.id > (cursor.lastValue as number),
          );
        }
      },
      { name: "issues", writeDisposition: "merge", primaryKey: "id" },
    );
    await p.run(updates);
    expect(streamed()?.streamed).toBeGreaterThan(0);
    expect(await tableRows(p, "issues")).toHaveLength(400);
    expect(p.defaultSchema.tables.issues?.columns.id?.incremental).toBe(true);
    const cursors = p.state.sources?.incremental?.resources?.issues?.incremental as
      | Record<string, { last_value?: unknown }>
      | undefined;
    expect(cursors?.id?.last_value).toBe(400);
  });

  it("should leave nothing behind when extract fails midway, and load the next run's data once", async () => {
    const p = pipelineNamed("failing");
    const failed = await p.run(slowIssues(30, { failAfter: 20 })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(PipelineStepFailed);
    expect((failed as PipelineStepFailed).step).toBe("extract");
    expect(p.hasPendingData).toBe(false);
    const loadNew = join(p.workingDir, "load", "new");
    expect(existsSync(loadNew) ? readdirSync(loadNew) : []).toEqual([]);

    await p.run(slowIssues(12));
    expect(await tableRows(p, "issues")).toHaveLength(480);
    expect(streamed()?.streamed).toBeGreaterThan(0);
  });
});
