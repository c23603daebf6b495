/**
 * The filesystem destination through the public pipeline API (issue 10): the tutorial's data loaded
 * to a local bucket as jsonl, parquet and csv and read back with DuckDB, replace and the merge error,
 * and state restore from the files after the working folder is deleted.
 *
 * The destination package may not depend on `tsdlt` (dependency-direction rule), so the pipeline test
 * lives here. `tsdlt` does not list `@tsdlt/destination-filesystem` yet, so the factory is imported
 * from the package's sources by path; `destination: "filesystem"` by name needs that devDependency.
 */
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { silentLogger } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { filesystem } from "../../destination-filesystem/src/index.js";
import * as dlt from "../src/index.js";
import { tutorialIssues, useBucket } from "./bucket.js";

const dirs = useBucket("tsdlt-filesystem-");

/** The quick start's users and GitHub issues as the tutorial loads them (nested user, labels list). */
const users = [
  { id: 1, name: "Alice" },
  { id: 2, name: "Bob" },
];
const issues = tutorialIssues("State sync", [3, 0]);

function lake(name: string, options: Parameters<typeof filesystem>[0] = {}): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(dirs.root, "pipelines"),
    destination: filesystem({ bucketUrl: dirs.bucket, ...options }),
    datasetName: "tutorial_data",
    logger: silentLogger,
  });
}

async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const dataset = (): string => join(dirs.bucket, "tutorial_data");

describe("filesystem destination through the pipeline", () => {
  it.each(["jsonl", "parquet", "csv"] as const)(
    "should load the tutorial data as %s, readable by DuckDB",
    async (fileFormat) => {
      const pipeline = lake(`tutorial_${fileFormat}`, { fileFormat });
      const info = await pipeline.run(users, { tableName: "users" });
      expect(info.hasFailedJobs).toBe(false);
      await pipeline.run(issues, { tableName: "issues" });
      expect(String(info)).toContain(`file://${dirs.bucket}`);

      const read = (table: string): string =>
        fileFormat === "parquet"
          ? `read_parquet('${dataset()}/${table}/*.parquet')`
          : fileFormat === "csv"
            ? `read_csv('${dataset()}/${table}/*.csv')`
            : `read_json('${dataset()}/${table}/*.jsonl')`;
      expect(await duck(`SELECT id::INT AS id, name FROM ${read("users")} ORDER BY id`)).toEqual([
        { id: 1, name: "Alice" },
        { id: 2, name: "Bob" },
      ]);
      const rows = await duck(
        `SELECT id::VARCHAR AS id, title, locked, user__login, created_at::TIMESTAMPTZ::VARCHAR AS created_at
       FROM ${read("issues")} ORDER BY number`,
      );
      expect(rows).toEqual([
        {
          id: "2313456789",
          title: "Filesystem destination",
          locked: false,
          user__login: "rudolfix",
          created_at: "2024-03-01 10:20:30.123456+00",
        },
        {
          id: "2313456790",
          title: "State sync",
          locked: true,
          user__login: "sh-rp",
          created_at: "2024-03-02 08:00:00+00",
        },
      ]);
      const labels = await duck(
        `SELECT i.number::INT AS number, l.name FROM ${read("issues__labels")} l JOIN ${read("issues")} i
       ON l._dlt_parent_id = i._dlt_id ORDER BY l._dlt_list_idx`,
      );
      expect(labels).toEqual([
        { number: 1001, name: "enhancement" },
        { number: 1001, name: "destination" },
      ]);
      if (fileFormat === "parquet") {
        const types = await duck(`DESCRIBE SELECT id, locked, score, created_at FROM ${read("issues")}`);
        expect(types.map((t) => t.column_type)).toEqual([
          "BIGINT",
          "BOOLEAN",
          "DOUBLE",
          "TIMESTAMP WITH TIME ZONE",
        ]);
      }
      // two packages, two _dlt_loads files; the state is stored once it changed
      expect(readdirSync(join(dataset(), "_dlt_loads"))).toHaveLength(2);
      expect(readdirSync(join(dataset(), "_dlt_pipeline_state")).length).toBeGreaterThanOrEqual(1);
    },
  );

  it("should replace a table's files, and fail merge with a clear error", async () => {
    const pipeline = lake("replace_merge");
    await pipeline.run(issues, { tableName: "issues", writeDisposition: "replace" });
    await pipeline.run(issues.slice(1), { tableName: "issues", writeDisposition: "replace" });
    expect(readdirSync(join(dataset(), "issues"))).toHaveLength(1);
    expect(await duck(`SELECT count(*)::INT AS n FROM read_json('${dataset()}/issues/*.jsonl')`)).toEqual([
      { n: 1 },
    ]);
    // the second load had no labels: the nested table's earlier file went with its root
    const loads = readdirSync(join(dataset(), "_dlt_loads"))
      .map((f) => f.replace(/^.*__|\.jsonl$/g, ""))
      .sort();
    for (const file of readdirSync(join(dataset(), "issues__labels"))) {
      expect(file.startsWith(`${loads[1]}.`)).toBe(true);
      expect(statSync(join(dataset(), "issues__labels", file)).size).toBe(0);
    }

    const error = await pipeline
      .run(issues, { tableName: "pulls", writeDisposition: "merge", primaryKey: "id" })
      .catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(
      /Table `pulls` has write disposition `merge`, which the filesystem destination cannot do .* `append` or `replace`/,
    );
  });

  it("should restore state and schema from the files after the working folder is deleted", async () => {
    let served = ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"];
    const seen: unknown[] = [];
    const source = () =>
      dlt.resource(
        function* (
          updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
        ) {
          seen.push(updatedAt.lastValue);
          yield served.map((u, i) => ({ id: i + 1, updated_at: u }));
        },
        { name: "events", writeDisposition: "append" },
      );
    const first = lake("restore");
    await first.run(source());
    const stateBefore = first.state;
    const schemaBefore = first.defaultSchema;
    rmSync(first.workingDir, { recursive: true, force: true });

    const fresh = lake("restore");
    await fresh.syncDestination();
    expect(fresh.state._version_hash).toBe(stateBefore._version_hash);
    expect(fresh.defaultSchema.versionHash).toBe(schemaBefore.versionHash);
    expect(Object.keys(fresh.defaultSchema.getTableColumns("events"))).toEqual([
      "id",
      "updated_at",
      "_dlt_load_id",
      "_dlt_id",
    ]);

    // the restored cursor keeps going: only the new event is loaded
    served = [...served, "2024-01-03T00:00:00Z"];
    await fresh.run(source());
    expect(seen.at(-1)).toBe("2024-01-02T00:00:00Z");
    const rows = await duck(`SELECT id::INT AS id FROM read_json('${dataset()}/events/*.jsonl') ORDER BY id`);
    expect(rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);

    // a third pipeline with the same name restores through run() as well, and attach() works after it
    rmSync(fresh.workingDir, { recursive: true, force: true });
    const third = lake("restore");
    await third.run([{ id: 9, updated_at: "2024-02-01T00:00:00Z" }], { tableName: "extra" });
    expect(third.state.sources).toEqual(fresh.state.sources);
    expect(
      dlt.attachSync({ pipelineName: "restore", pipelinesDir: join(dirs.root, "pipelines") }).defaultSchema
        .tables.events,
    ).toBeDefined();
    expect(existsSync(join(dataset(), "init"))).toBe(true);
  });

  it("should drop a refreshed table's files and empty them with drop_data", async () => {
    const pipeline = lake("refreshing");
    const files = (table: string): string[] =>
      existsSync(join(dataset(), table)) ? readdirSync(join(dataset(), table)) : [];
    await pipeline.run(issues, { tableName: "issues" });
    await pipeline.run(users, { tableName: "users" });
    expect(files("issues__labels")).toHaveLength(1);
    await pipeline.run(issues.slice(1), { tableName: "issues", refresh: "drop_resources" });
    // the old files are gone; the second issue has no labels, so no label files are written again
    expect(files("issues")).toHaveLength(1);
    expect(files("issues__labels")).toEqual([]);
    expect(await duck(`SELECT number::INT AS n FROM read_json('${dataset()}/issues/*.jsonl')`)).toEqual([
      { n: 1002 },
    ]);
    expect(files("users")).toHaveLength(1);
    // the schema's earlier versions were deleted with the dropped tables; the new one is stored
    expect(files("_dlt_version")).toHaveLength(1);
    // drop_data on an append table: only this run's file remains
    await pipeline.run(users.slice(0, 1), { tableName: "users", refresh: "drop_data" });
    expect(await duck(`SELECT name FROM read_json('${dataset()}/users/*.jsonl')`)).toEqual([
      { name: "Alice" },
    ]);
  });
});
