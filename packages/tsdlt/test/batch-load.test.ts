/**
 * Loading a table's job files together (issue 12): in the load transaction, DuckDB loads all files
 * of a table with one statement. Checked on a real DuckDB file: every row arrives, every job file is
 * completed, and a bad file fails its whole batch, with no rows of the package written.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as dlt from "../src/index.js";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-batch-"));
  // small job files: every table gets several
  vi.stubEnv("NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS", "3");
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

function newPipeline(): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: "batch",
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, "batch.duckdb") }),
    datasetName: "ds",
  });
}

const rows = Array.from({ length: 10 }, (_, i) => ({
  id: i,
  name: `row ${i}`,
  tags: [`a${i}`, `b${i}`],
}));

function jobFiles(dir: string, table: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(`${table}.`) && !f.endsWith(".exception"));
}

describe("batch loading of a table's job files", () => {
  it("loads every file of every table and completes each job file", async () => {
    const p = newPipeline();
    const info = await p.run(rows, { tableName: "items" });
    const [loaded] = info.loadPackages;
    const completed = join(loaded?.packagePath ?? "", "completed_jobs");
    expect(jobFiles(completed, "items")).toHaveLength(4);
    expect(jobFiles(completed, "items__tags")).toHaveLength(7);
    const [counts] = await p.query(
      "SELECT (SELECT count(*) FROM ds.items)::INT AS items, (SELECT count(*) FROM ds.items__tags)::INT AS tags, (SELECT sum(id) FROM ds.items)::INT AS ids",
    );
    expect(counts).toEqual({ items: 10, tags: 20, ids: 45 });
  });

  it("fails the whole batch of a bad file and writes none of the package's rows", async () => {
    const p = newPipeline();
    await p.run(rows.slice(0, 1), { tableName: "items" });
    await p.extract(rows, { tableName: "items" });
    const normalized = await p.normalize();
    const [pkg] = normalized.loadPackages;
    const newJobs = join(pkg?.packagePath ?? "", "new_jobs");
    const files = jobFiles(newJobs, "items").sort();
    expect(files.length).toBeGreaterThan(1);
    // a corrupted job file: a bigint column holding text
    const bad = join(newJobs, files[1] as string);
    writeFileSync(bad, readFileSync(bad, "utf8").replace(/"id":\d+/, '"id":"not a number"'));

    const error = await p.load().catch((e: unknown) => e);
    expect(dlt.isTsdltError(error) && error.code).toBe("PIPELINE_STEP_FAILED");
    // DuckDB names the file holding the bad value
    expect(String((error as Error).message)).toContain(`${files[1]}", in line 1`);
    const loadedDir = join(root, "pipelines", "batch", "load", "loaded", pkg?.loadId ?? "");
    // every file of the batch failed with it
    expect(jobFiles(join(loadedDir, "failed_jobs"), "items").sort()).toEqual(files);
    const [counts] = await p.query(
      "SELECT (SELECT count(*) FROM ds.items)::INT AS items, (SELECT count(*) FROM ds.items__tags)::INT AS tags",
    );
    expect(counts).toEqual({ items: 1, tags: 2 });
  });
});
