/**
 * `staging: filesystem(...)` on `pipeline()` (issue 10, item 3) with DuckDB as the final destination:
 * job files are staged to a local bucket as `{table_name}/{load_id}.{file_id}.{ext}` and DuckDB loads
 * them from there through `.reference` jobs. Covers every staged format, merge / replace / scd2
 * follow-ups through staging, truncation of earlier staged files, cleanup after the load on and off,
 * and a failed load finished by the next run from the files it already staged.
 *
 * `staging: "filesystem"` by name (config `bucket_url`) and Postgres run as user scripts in
 * `staging.integration.test.ts`; here the factory is imported from the package's sources by path,
 * as in `filesystem.test.ts`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Destination, DestinationError, silentLogger } from "@tsdlt/core";
import { afterEach, describe, expect, it } from "vitest";
import { filesystem } from "../../destination-filesystem/src/index.js";
import * as dlt from "../src/index.js";
import { tutorialIssues, useBucket } from "./bucket.js";

const dirs = useBucket("tsdlt-staging-");
const savedEnv = { ...process.env };

afterEach(() => {
  process.env = { ...savedEnv };
});

/** The tutorial's GitHub issues, the second titled to test csv quoting. */
const issues = tutorialIssues('State "sync", with a comma\nand a new line');

function staged(
  name: string,
  options: { destination?: Destination; staging?: Parameters<typeof filesystem>[0] } = {},
): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(dirs.root, "pipelines"),
    destination:
      options.destination ?? dlt.destinations.duckdb({ credentials: join(dirs.root, `${name}.duckdb`) }),
    staging: filesystem({ bucketUrl: dirs.bucket, ...options.staging }),
    datasetName: "tutorial_data",
    logger: silentLogger,
  });
}

/** Bucket-relative paths of the staged files of `table`. */
function stagedFiles(table: string): string[] {
  const folder = join(dirs.bucket, "tutorial_data", table);
  return existsSync(folder) ? readdirSync(folder).sort() : [];
}

const ISSUE_COLUMNS = `id::VARCHAR AS id, number::INT AS number, title, locked, score,
  strftime(created_at, '%Y-%m-%dT%H:%M:%S.%f') AS created_at, user__login`;

describe("staging: filesystem with DuckDB", () => {
  it("should stage parquet files by default and load DuckDB from them", async () => {
    const pipeline = staged("stage_parquet");
    const info = await pipeline.run(issues, { tableName: "issues" });
    expect(info.hasFailedJobs).toBe(false);
    const loadId = info.loadsIds[0] as string;
    expect(String(info)).toContain(
      `The filesystem staging destination used file://${dirs.bucket} location to stage data`,
    );

    // staged files: {table_name}/{load_id}.{file_id}.{ext}
    const escaped = loadId.replace(".", "\\.");
    for (const table of ["issues", "issues__labels", "_dlt_pipeline_state"]) {
      const files = stagedFiles(table);
      expect(files, table).toHaveLength(1);
      expect(files[0]).toMatch(new RegExp(`^${escaped}\\.[0-9a-f]{10}\\.parquet$`));
    }
    // the package records one reference job per staged file, holding its URL
    const pkg = pipeline.getLoadPackageInfo(loadId);
    const refs = pkg?.jobs.filter((j) => j.fileName.endsWith(".reference")) ?? [];
    expect(refs.map((j) => j.state)).toEqual(["completed_jobs", "completed_jobs", "completed_jobs"]);
    const issuesRef = refs.find((j) => j.tableName === "issues");
    const refText = readFileSync(
      join(pkg?.packagePath as string, "completed_jobs", issuesRef?.fileName as string),
      "utf8",
    );
    expect(refText).toBe(
      `file://${join(dirs.bucket, "tutorial_data", "issues", stagedFiles("issues")[0] as string)}`,
    );

    expect(await pipeline.query(`SELECT ${ISSUE_COLUMNS} FROM tutorial_data.issues ORDER BY number`)).toEqual(
      [
        {
          id: "2313456789",
          number: 1001,
          title: "Filesystem destination",
          locked: false,
          score: 0.75,
          created_at: "2024-03-01T10:20:30.123456",
          user__login: "rudolfix",
        },
        {
          id: "2313456790",
          number: 1002,
          title: 'State "sync", with a comma\nand a new line',
          locked: true,
          score: 1.5,
          created_at: "2024-03-02T08:00:00.000000",
          user__login: "sh-rp",
        },
      ],
    );
    expect(
      await pipeline.query(
        `SELECT l.name FROM tutorial_data.issues__labels l JOIN tutorial_data.issues i ON l._dlt_parent_id = i._dlt_id ORDER BY l._dlt_list_idx`,
      ),
    ).toEqual([{ name: "enhancement" }, { name: "destination" }]);
    // the state went through staging too and restores
    const state = await pipeline.query("SELECT count(*)::INT AS n FROM tutorial_data._dlt_pipeline_state");
    expect(state).toEqual([{ n: 1 }]);
    expect(await pipeline.query("SELECT status::INT AS status FROM tutorial_data._dlt_loads")).toEqual([
      { status: 0 },
    ]);
  });

  it('should resolve `staging: "filesystem"` by name with the bucket from config', async () => {
    process.env.DESTINATION__FILESYSTEM__BUCKET_URL = dirs.bucket;
    const pipeline = dlt.pipeline({
      pipelineName: "stage_by_name",
      pipelinesDir: join(dirs.root, "pipelines"),
      destination: dlt.destinations.duckdb({ credentials: join(dirs.root, "by_name.duckdb") }),
      staging: "filesystem",
      datasetName: "tutorial_data",
      logger: silentLogger,
    });
    const info = await pipeline.run(issues, { tableName: "issues", loaderFileFormat: "jsonl" });
    expect(stagedFiles("issues")).toEqual([expect.stringMatching(/^\d+\.\d+\.[0-9a-f]{10}\.jsonl$/)]);
    expect(info.toJSON()).toMatchObject({
      staging_name: "filesystem",
      staging_type: "dlt.destinations.filesystem",
    });
    expect(await pipeline.query("SELECT count(*)::INT AS n FROM tutorial_data.issues")).toEqual([{ n: 2 }]);
  });

  it.each(["jsonl", "csv", "parquet"] as const)(
    "should load every data type staged as %s like a direct load",
    async (format) => {
      const rows = [
        {
          id: 1,
          big: 9_007_199_254_740_993n,
          score: 1.25,
          flag: true,
          text: 'a, "b"\nc ✓',
          amount: "12.5",
          at: new Date("2024-05-01T10:00:00.123Z"),
          day: "2024-02-29",
          doc: { a: [1, { b: "x" }], c: null },
          bin: new TextEncoder().encode("bytes ✓"),
          nothing: null,
        },
        { id: 2, big: -5n, score: -0.5, flag: false, text: "second" },
      ];
      const options = {
        tableName: "types",
        columns: {
          amount: { data_type: "decimal" as const },
          day: { data_type: "date" as const },
          doc: { data_type: "json" as const },
        },
      };
      const direct = dlt.pipeline({
        pipelineName: `direct_${format}`,
        pipelinesDir: join(dirs.root, "pipelines"),
        destination: dlt.destinations.duckdb({ credentials: join(dirs.root, `direct_${format}.duckdb`) }),
        datasetName: "tutorial_data",
        logger: silentLogger,
      });
      await direct.run(rows, options);
      const pipeline = staged(`types_${format}`);
      await pipeline.run(rows, { ...options, loaderFileFormat: format });
      expect(stagedFiles("types")).toEqual([expect.stringMatching(new RegExp(`\\.${format}$`))]);
      const select = `SELECT id, big, score, flag, "text", amount, "at", "day", doc::VARCHAR AS doc, bin FROM tutorial_data.types ORDER BY id`;
      const got = await pipeline.query(select);
      expect(got).toEqual(await direct.query(select));
      expect(got[0]).toMatchObject({ big: 9_007_199_254_740_993n, text: 'a, "b"\nc ✓' });
    },
  );

  it("should stage the fileFormat of a filesystem staging object unless the run asks for another", async () => {
    const pipeline = staged("stage_object_format", { staging: { fileFormat: "csv" } });
    await pipeline.run(issues, { tableName: "issues" });
    expect(stagedFiles("issues")).toEqual([expect.stringMatching(/\.csv$/)]);
    await pipeline.run(issues, { tableName: "issues", loaderFileFormat: "jsonl" });
    expect(stagedFiles("issues")).toEqual([expect.stringMatching(/\.jsonl$/)]);
    // `loaderFileFormat` holds for its run only
    await pipeline.run(issues, { tableName: "issues" });
    expect(stagedFiles("issues")).toEqual([expect.stringMatching(/\.csv$/)]);
    expect(await pipeline.query("SELECT count(*)::INT AS n FROM tutorial_data.issues")).toEqual([{ n: 6 }]);
  });

  it("should merge through staging, replacing staged files of earlier loads (dlt's default)", async () => {
    const pipeline = staged("stage_merge");
    const merge = { tableName: "issues", writeDisposition: "merge" as const, primaryKey: "id" };
    const first = await pipeline.run(issues, merge);
    const firstFiles = stagedFiles("issues");
    expect(firstFiles).toHaveLength(1);
    const renamed = [
      { ...issues[0], title: "Filesystem destination and staging", labels: [{ name: "staging" }] },
    ];
    const second = await pipeline.run(renamed, merge);
    expect(second.loadsIds[0]).not.toBe(first.loadsIds[0]);
    // the second load deleted the first load's staged files of the tables it staged
    const files = stagedFiles("issues");
    expect(files).toHaveLength(1);
    expect(files[0]?.startsWith(`${second.loadsIds[0]}.`)).toBe(true);

    expect(
      await pipeline.query("SELECT number::INT AS number, title FROM tutorial_data.issues ORDER BY number"),
    ).toEqual([
      { number: 1001, title: "Filesystem destination and staging" },
      { number: 1002, title: 'State "sync", with a comma\nand a new line' },
    ]);
    expect(
      await pipeline.query(
        "SELECT i.number::INT AS number, l.name FROM tutorial_data.issues__labels l JOIN tutorial_data.issues i ON l._dlt_root_id = i._dlt_id ORDER BY 1, l._dlt_list_idx",
      ),
    ).toEqual([{ number: 1001, name: "staging" }]);
    // the merge ran from the staging dataset
    const packageInfo = pipeline.getLoadPackageInfo(second.loadsIds[0] as string);
    expect(
      packageInfo?.jobs.some((j) => j.fileName.startsWith("issues.") && j.fileName.endsWith(".sql")),
    ).toBe(true);
  });

  it("should keep the staged files of every load with truncate_tables_on_staging_destination_before_load off", async () => {
    process.env.DESTINATION__DUCKDB__TRUNCATE_TABLES_ON_STAGING_DESTINATION_BEFORE_LOAD = "false";
    const pipeline = staged("stage_history");
    const first = await pipeline.run(issues, { tableName: "issues" });
    const second = await pipeline.run(issues, { tableName: "issues" });
    expect(stagedFiles("issues").map((f) => f.split(".").slice(0, 2).join("."))).toEqual(
      [first.loadsIds[0], second.loadsIds[0]].sort(),
    );
    expect(await pipeline.query("SELECT count(*)::INT AS n FROM tutorial_data.issues")).toEqual([{ n: 4 }]);
  });

  it("should replace and run scd2 through staging", async () => {
    const pipeline = staged("stage_followups");
    const scd2 = { disposition: "merge" as const, strategy: "scd2" as const };
    await pipeline.run(
      [
        { id: 1, v: "a" },
        { id: 2, v: "b" },
      ],
      { tableName: "dim", writeDisposition: scd2 },
    );
    await pipeline.run([{ id: 1, v: "a2" }], { tableName: "dim", writeDisposition: scd2 });
    expect(
      await pipeline.query(
        "SELECT id::INT AS id, v, _dlt_valid_to IS NULL AS active FROM tutorial_data.dim ORDER BY id, v",
      ),
    ).toEqual([
      { id: 1, v: "a", active: false },
      { id: 1, v: "a2", active: true },
      { id: 2, v: "b", active: false },
    ]);
    await pipeline.run([{ id: 1 }, { id: 2 }], { tableName: "numbers", writeDisposition: "replace" });
    await pipeline.run([{ id: 3 }], { tableName: "numbers", writeDisposition: "replace" });
    expect(await pipeline.query("SELECT id::INT AS id FROM tutorial_data.numbers")).toEqual([{ id: 3 }]);
  });

  it("should delete a load's staged files after it completed when keepStagedFiles is off", async () => {
    const pipeline = staged("stage_cleanup", { staging: { keepStagedFiles: false } });
    const info = await pipeline.run(issues, { tableName: "issues" });
    expect(info.hasFailedJobs).toBe(false);
    for (const table of ["issues", "issues__labels", "_dlt_pipeline_state"])
      expect(stagedFiles(table)).toEqual([]);
    expect(await pipeline.query("SELECT count(*)::INT AS n FROM tutorial_data.issues")).toEqual([{ n: 2 }]);
  });

  it("should read keep_staged_files from config", async () => {
    process.env.DESTINATION__FILESYSTEM__KEEP_STAGED_FILES = "false";
    const pipeline = staged("stage_cleanup_config");
    await pipeline.run(issues, { tableName: "issues" });
    expect(stagedFiles("issues")).toEqual([]);
    process.env.DESTINATION__FILESYSTEM__KEEP_STAGED_FILES = "true";
    const kept = staged("stage_kept_config");
    await kept.run(issues, { tableName: "issues" });
    expect(stagedFiles("issues")).toHaveLength(1);
  });

  it("should finish a failed staged load from the files it already staged", async () => {
    const duck = dlt.destinations.duckdb({ credentials: join(dirs.root, "crash.duckdb") });
    let failures = 0;
    // the destination fails terminally when recording the load: after staging and loading, before _dlt_loads
    const failing: Destination = {
      ...duck,
      createClient: async (schema, context) => {
        const client = await duck.createClient(schema, context);
        return new Proxy(client, {
          get(target, prop) {
            if (prop === "completeLoad") {
              return async () => {
                failures++;
                throw new DestinationError("[tsdlt] [duckdb] simulated crash before `_dlt_loads`", {
                  code: "DESTINATION_TERMINAL",
                  retryable: false,
                  destination: "duckdb",
                });
              };
            }
            const value = Reflect.get(target, prop, target) as unknown;
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      },
    };
    const broken = staged("stage_crash", { destination: failing });
    await expect(broken.run(issues, { tableName: "issues" })).rejects.toThrow(/simulated crash/);
    expect(failures).toBe(1);
    const pending = broken.listPendingPackages().normalized;
    expect(pending).toHaveLength(1);
    const files = stagedFiles("issues");
    expect(files).toHaveLength(1);
    const stagedAt = statSync(join(dirs.bucket, "tutorial_data", "issues", files[0] as string)).mtimeMs;

    // without the staging destination the package cannot be finished: it says so
    const unstaged = dlt.pipeline({
      pipelineName: "stage_crash",
      pipelinesDir: join(dirs.root, "pipelines"),
      destination: duck,
      datasetName: "tutorial_data",
      logger: silentLogger,
    });
    await expect(unstaged.run()).rejects.toThrow(
      /holds reference jobs to files on a staging destination, but no staging destination is set/,
    );

    // a new run with the working destination finishes the package from the staged files
    const pipeline = staged("stage_crash", { destination: duck });
    const info = await pipeline.run();
    expect(info.loadsIds).toEqual(pending);
    expect(stagedFiles("issues")).toEqual(files);
    expect(statSync(join(dirs.bucket, "tutorial_data", "issues", files[0] as string)).mtimeMs).toBe(stagedAt);
    expect(await pipeline.query("SELECT count(*)::INT AS n FROM tutorial_data.issues")).toEqual([{ n: 2 }]);
    expect(await pipeline.query("SELECT load_id FROM tutorial_data._dlt_loads")).toEqual([
      { load_id: pending[0] },
    ]);
    // each staging job ran once: one completed job per staged file, none repeated
    const jobs = pipeline.getLoadPackageInfo(pending[0] as string)?.jobs ?? [];
    expect(jobs.filter((j) => j.tableName === "issues").map((j) => j.fileName.split(".").at(-1))).toEqual([
      "jsonl",
      "reference",
    ]);
  });

  it("should explain what does not fit", async () => {
    const direct = dlt.pipeline({
      pipelineName: "no_staging",
      pipelinesDir: join(dirs.root, "pipelines"),
      destination: dlt.destinations.duckdb({ credentials: join(dirs.root, "no_staging.duckdb") }),
      datasetName: "tutorial_data",
      logger: silentLogger,
    });
    await expect(direct.run(issues, { tableName: "issues", loaderFileFormat: "parquet" })).rejects.toThrow(
      /`loaderFileFormat: "parquet"` is not supported by destination `duckdb`: .* To load staged `parquet` files instead, add `staging: "filesystem"`/,
    );
    const duckAsStaging = dlt.pipeline({
      pipelineName: "duck_staging",
      pipelinesDir: join(dirs.root, "pipelines"),
      destination: dlt.destinations.duckdb({ credentials: join(dirs.root, "duck_staging.duckdb") }),
      staging: dlt.destinations.duckdb({ credentials: join(dirs.root, "other.duckdb") }),
      datasetName: "tutorial_data",
      logger: silentLogger,
    });
    await expect(duckAsStaging.run(issues, { tableName: "issues" })).rejects.toThrow(
      /Destination `duckdb` cannot be used as a staging destination/,
    );
    const lake = dlt.pipeline({
      pipelineName: "lake_with_staging",
      pipelinesDir: join(dirs.root, "pipelines"),
      destination: filesystem({ bucketUrl: join(dirs.root, "lake") }),
      staging: filesystem({ bucketUrl: dirs.bucket }),
      datasetName: "tutorial_data",
      logger: silentLogger,
    });
    await expect(lake.run(issues, { tableName: "issues" })).rejects.toThrow(
      /Destination `filesystem` cannot load files from a staging destination/,
    );
  });
});
