/**
 * `loaderFileFormat` without a staging destination (issue 12): it picks the format of the job files
 * normalize writes, when the destination loads such files; otherwise the run fails before anything
 * is extracted, naming the format, the destination and the formats it loads. Postgres (which prefers
 * `csv` job files) runs as user scripts in `postgres.integration.test.ts`; staging (normalize keeps
 * writing `jsonl`) in `staging.test.ts` and `staging.integration.test.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Destination, isTsdltError, PipelineStepFailed, silentLogger } from "@tsdlt/core";
import { dummyDestination } from "@tsdlt/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesystem } from "../../destination-filesystem/src/index.js";
import * as dlt from "../src/index.js";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-csvpg-format-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const users = [
  { id: 1, name: "Alice" },
  { id: 2, name: "Bob" },
];

function pipelineTo(name: string, destination: Destination): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination,
    datasetName: "formats",
    logger: silentLogger,
  });
}

/** A destination that prefers `csv` job files and loads `jsonl` ones too, as Postgres does. */
const csvFirst = () =>
  dummyDestination({
    destinationName: "csv_first",
    capabilities: { preferredLoaderFileFormat: "csv", supportedLoaderFileFormats: ["csv", "jsonl"] },
  });

/** The message of the `INVALID_ARGUMENT` error `work` fails with (`run()` wraps it in {@link PipelineStepFailed}). */
async function invalidArgument(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  const cause = error instanceof PipelineStepFailed ? error.cause : error;
  expect(isTsdltError(cause, "INVALID_ARGUMENT")).toBe(true);
  return (cause as Error).message;
}

describe("loaderFileFormat without staging", () => {
  it("should have normalize write the job files in the format it picks, over the destination's preferred one", async () => {
    const destination = csvFirst();
    const p = pipelineTo("pick_jsonl", destination);
    const info = await p.run(users, { tableName: "users", loaderFileFormat: "jsonl" });
    expect(info.hasFailedJobs).toBe(false);
    expect(destination.attempts.map((a) => a.fileName.split(".").at(-1))).toEqual(["jsonl", "jsonl"]);
    expect(destination.rows("formats", "users").map((r) => r.name)).toEqual(["Alice", "Bob"]);

    // the same through the steps: `normalize({ loaderFileFormat })`, as dlt's `normalize(loader_file_format=...)`
    await p.extract([{ id: 3, name: "Carol" }], { tableName: "users" });
    const normalized = await p.normalize({ loaderFileFormat: "jsonl" });
    const loadId = normalized.loadsIds[0] as string;
    expect(p.getLoadPackageInfo(loadId)?.jobs.map((j) => j.fileName.split(".").at(-1))).toEqual(["jsonl"]);
    await p.load();
    expect(destination.rows("formats", "users").map((r) => r.name)).toEqual(["Alice", "Bob", "Carol"]);
  });

  it("should refuse a format the destination does not load before extracting, naming the formats it loads", async () => {
    const p = pipelineTo("refuse_csv", dummyDestination());
    await expect(p.run(users, { tableName: "users", loaderFileFormat: "csv" })).rejects.toBeInstanceOf(
      PipelineStepFailed,
    );
    expect(await invalidArgument(p.run(users, { tableName: "users", loaderFileFormat: "csv" }))).toBe(
      '`loaderFileFormat: "csv"` is not supported by destination `dummy`: it loads `jsonl` job files. Use one of those as `loaderFileFormat`, or remove the option to use its preferred `jsonl`.',
    );
    expect(p.listPendingPackages()).toEqual({ extracted: [], normalized: [] });

    // a format the destination loads from a staging destination: say how
    const duck = pipelineTo(
      "refuse_parquet",
      dlt.destinations.duckdb({ credentials: join(root, "d.duckdb") }),
    );
    expect(
      await invalidArgument(duck.run(users, { tableName: "users", loaderFileFormat: "parquet" })),
    ).toMatch(
      /^`loaderFileFormat: "parquet"` is not supported by destination `duckdb`: it loads `.*` job files\. .* To load staged `parquet` files instead, add `staging: "filesystem"`\.$/,
    );

    // the step API checks too
    await duck.extract(users, { tableName: "users" });
    expect(await invalidArgument(duck.normalize({ loaderFileFormat: "parquet" }))).toMatch(
      /`loaderFileFormat: "parquet"` is not supported by destination `duckdb`/,
    );
    expect(duck.listPendingPackages().normalized).toEqual([]);
    await expect(duck.normalize({ workers: 2 } as never)).rejects.toThrow(
      "`normalize` got an unexpected option `workers`. Known options: loaderFileFormat.",
    );
  });

  it("should keep a sink destination on jsonl", async () => {
    const sink = dlt.destination(async () => {}, { name: "my_sink" });
    const p = pipelineTo("sink_csv", sink);
    expect(await invalidArgument(p.run(users, { tableName: "users", loaderFileFormat: "csv" }))).toMatch(
      /^`loaderFileFormat: "csv"` is not supported by destination `my_sink`: it loads `jsonl` job files\./,
    );
    await p.run(users, { tableName: "users", loaderFileFormat: "jsonl" });
  });

  it("should point the filesystem destination at its own `fileFormat` option", async () => {
    const lake = pipelineTo("lake", filesystem({ bucketUrl: join(root, "lake") }));
    expect(await invalidArgument(lake.run(users, { tableName: "users", loaderFileFormat: "parquet" }))).toBe(
      '`loaderFileFormat: "parquet"` is not supported by destination `filesystem`: it loads `jsonl` job files. It converts the `jsonl` job files normalize writes into the files it stores: pick their format with its `fileFormat` option (`fileFormat: "parquet"`), and remove `loaderFileFormat`.',
    );
    const info = await lake.run(users, { tableName: "users", loaderFileFormat: "jsonl" });
    expect(info.hasFailedJobs).toBe(false);
  });
});
