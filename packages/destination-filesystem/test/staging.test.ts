/**
 * The filesystem as another destination's staging area (issue 10, item 3): the staging variant from
 * `asStagingDestination`, its jobs' `remoteUrl`, and the `WithStagedFiles` ability the load stage uses
 * (truncate earlier loads' files, open a staged file, delete a load's files after it completed).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { pathToFileURL } from "node:url";
import { isStagingLoadJob, supportsStagedFiles, type TableSchema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesystem } from "../src/index.js";
import { context, issuesRows, tutorialSchema, usersRows, writePackage } from "./helpers.js";

let root: string;
let bucket: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-fs-staging-"));
  bucket = join(root, "bucket");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Stages every job of a package with a staging client; returns the URLs written. */
async function stage(
  destination: ReturnType<typeof filesystem>,
  loadId: string,
  tables: Record<string, readonly Record<string, unknown>[]>,
): Promise<string[]> {
  const schema = tutorialSchema({ issues: "merge" });
  const pkg = writePackage(join(root, "pk"), loadId, tables);
  await using client = await destination.createClient(schema, context(root));
  await client.initializeStorage();
  await client.updateStoredSchema();
  const urls: string[] = [];
  for (const job of pkg.jobs) {
    const table = schema.getTable(job.parsed.tableName) as TableSchema;
    const loadJob = await client.createLoadJob(table, job, loadId);
    expect(isStagingLoadJob(loadJob)).toBe(true);
    await loadJob.run();
    urls.push(loadJob.remoteUrl);
  }
  return urls;
}

const files = (table: string): string[] => {
  const folder = join(bucket, "tutorial_data", table);
  return existsSync(folder) ? readdirSync(folder).sort() : [];
};

describe("filesystem as a staging destination", () => {
  it("should write the requested format, accept merge tables and keep no schema or state files", async () => {
    const staging = filesystem({ bucketUrl: bucket }).asStagingDestination({ fileFormat: "parquet" });
    expect(staging.fileFormat).toBe("parquet");
    const urls = await stage(staging, "1719000000.5", {
      users: usersRows("1719000000.5"),
      issues: issuesRows("1719000000.5"),
    });
    expect(files("users")).toEqual([expect.stringMatching(/^1719000000\.5\.[0-9a-f]{10}\.parquet$/)]);
    expect(files("issues")).toHaveLength(1);
    expect(urls).toEqual([
      pathToFileURL(join(bucket, "tutorial_data", "users", files("users")[0] as string)).href,
      pathToFileURL(join(bucket, "tutorial_data", "issues", files("issues")[0] as string)).href,
    ]);
    expect(existsSync(join(bucket, "tutorial_data", "_dlt_version"))).toBe(false);
  });

  it("should take the explicit fileFormat as its configured format, and reject formats it cannot write", () => {
    expect(filesystem({ bucketUrl: bucket, fileFormat: "csv" }).configuredFileFormat).toBe("csv");
    expect(filesystem({ bucketUrl: bucket }).configuredFileFormat).toBeUndefined();
    expect(() =>
      filesystem({ bucketUrl: bucket }).asStagingDestination({ fileFormat: "insert_values" }),
    ).toThrow(/Option `fileFormat` is "insert_values"; use one of `jsonl`, `parquet`, `csv`/);
  });

  it("should truncate other loads' files, open and release staged files", async () => {
    const keep = filesystem({ bucketUrl: bucket }).asStagingDestination({ fileFormat: "jsonl" });
    const first = await stage(keep, "1719000000.5", { users: usersRows("1719000000.5") });
    const second = await stage(keep, "1719000001.5", { users: usersRows("1719000001.5") });
    expect(files("users")).toHaveLength(2);

    await using client = await keep.createClient(tutorialSchema(), context(root));
    expect(supportsStagedFiles(client)).toBe(true);
    // the current load's files survive: a resumed load keeps what it staged
    await client.truncateStagedTables(["users"], "1719000001.5");
    expect(files("users")).toEqual([expect.stringMatching(/^1719000001\.5\./)]);
    expect(await text(await client.openStagedFile(second[0] as string))).toContain('"name":"Alice"');
    await expect(client.openStagedFile(first[0] as string)).rejects.toThrow(/Reading staged file/);
    await expect(client.openStagedFile(pathToFileURL(join(root, "elsewhere.jsonl")).href)).rejects.toThrow(
      /is not a file of staging dataset/,
    );
    // kept by default
    expect(await client.releaseStagedFiles("1719000001.5", second)).toEqual([]);
    expect(files("users")).toHaveLength(1);

    const cleanup = filesystem({ bucketUrl: bucket, keepStagedFiles: false }).asStagingDestination({
      fileFormat: "jsonl",
    });
    await using cleaning = await cleanup.createClient(tutorialSchema(), context(root));
    expect(await cleaning.releaseStagedFiles("1719000001.5", second)).toEqual(second);
    expect(files("users")).toEqual([]);
  });
});
