/** Layouts and their placeholders (dlt's `layout`), as templates and as files the client writes. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LAYOUT, filesystem, Layout } from "../src/index.js";
import { context, loadWith, tutorialSchema, usersRows, writePackage } from "./helpers.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-fs-layout-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => relative(dir, join(dir, f)).split("\\").join("/"))
    .filter((f) => /\.(jsonl|parquet|csv)$/.test(f) && !f.startsWith("_dlt"))
    .sort();
}

const params = {
  schemaName: "tutorial",
  tableName: "users",
  loadId: "1719000000.5",
  fileId: "abcdef0123",
  ext: "parquet",
  // Monday 2024-04-01 13:05:09 UTC
  now: new Date(Date.UTC(2024, 3, 1, 13, 5, 9)),
};

describe("Layout", () => {
  it("should format the default layout", () => {
    expect(new Layout(DEFAULT_LAYOUT).format(params)).toBe("users/1719000000.5.abcdef0123.parquet");
  });

  it("should fill the date placeholders lower-cased in UTC, as dlt does", () => {
    const layout = new Layout(
      "{table_name}/{YYYY}-{MM}-{DD}/{YY}.{Y}.{M}.{D}/{HH}.{H}.{mm}.{m}/{MMMM}.{MMM}/{dddd}.{ddd}.{dd}.{d}.q{Q}/{curr_date}/{timestamp}.{ext}",
    );
    expect(layout.format(params)).toBe(
      "users/2024-04-01/24.2024.4.1/13.13.05.5/april.apr/monday.mon.mo.1.q2/2024-04-01/1711976709.parquet",
    );
  });

  it("should put schema name, package timestamp and extra placeholders in", () => {
    const layout = new Layout("{schema_name}/{table_name}/{env}/{who}/{load_package_timestamp}.{file_id}", {
      env: "prod",
      who: (c) => `${c.tableName}-${c.ext}`,
    });
    expect(layout.format({ ...params, packageCreatedAt: new Date(1_700_000_000_500) })).toBe(
      "tutorial/users/prod/users-parquet/1700000000.abcdef0123.parquet",
    );
    expect(layout.tablePrefix("users", "tutorial")).toBe("tutorial/users/");
  });

  it("should append the extension when the layout has no {ext}", () => {
    expect(new Layout("{table_name}.{load_id}.{file_id}").format(params)).toBe(
      "users.1719000000.5.abcdef0123.parquet",
    );
  });

  it("should read the load id back from a path", () => {
    const layout = new Layout("{table_name}/{YYYY}/{load_id}.{file_id}.{ext}");
    expect(layout.parseLoadId("users/2024/1719000000.5.abcdef0123.parquet", "users", "s")).toBe(
      "1719000000.5",
    );
    expect(layout.parseLoadId("users/2024/1719000000.5.abcdef0123.jsonl.gz", "users", "s")).toBe(
      "1719000000.5",
    );
    expect(layout.parseLoadId("users/2024/notes.txt", "users", "s")).toBeUndefined();
    expect(
      new Layout("{table_name}/{file_id}.{ext}").parseLoadId("users/a.jsonl", "users", "s"),
    ).toBeUndefined();
  });

  it.each([
    ["{table_name}/{load_id}.{nope}.{ext}", /unknown placeholder\(s\) `\{nope\}`/],
    ["{load_id}/{file_id}.{ext}", /`\{table_name\}` placeholder is missing/],
    ["{load_id}/{table_name}/{file_id}.{ext}", /only `\{schema_name\}` may come before `\{table_name\}`/],
    ["{table_name}{load_id}.{ext}", /a separator .* must follow `\{table_name\}`/],
    ["/{table_name}/{load_id}.{ext}", /relative path inside the dataset folder/],
    ["{table_name}/../{load_id}.{ext}", /relative path inside the dataset folder/],
  ])("should refuse layout %s", (template, message) => {
    expect(() => filesystem({ bucketUrl: root, layout: template })).toThrow(message);
  });
});

describe("layout in the client", () => {
  it("should place files by a dated layout with the package's creation time", async () => {
    const loadId = "1719000000.25";
    const destination = filesystem({
      bucketUrl: join(root, "bucket"),
      layout: "{table_name}/{YYYY}/{MM}/{DD}/{load_id}.{file_id}.{ext}",
    });
    const pkg = writePackage(
      join(root, "pk"),
      loadId,
      { users: usersRows(loadId) },
      new Date(Date.UTC(2023, 11, 31, 23)),
    );
    await loadWith(destination, tutorialSchema(), context(root), pkg);
    const fileId = pkg.jobs[0]?.parsed.fileId;
    expect(filesUnder(join(root, "bucket", "tutorial_data"))).toEqual([
      `users/2023/12/31/${loadId}.${fileId}.jsonl`,
    ]);
  });

  it("should use currentDatetime and a flat layout with the table as file name prefix", async () => {
    const loadId = "1719000000.75";
    const destination = filesystem({
      bucketUrl: `file://${join(root, "bucket")}`,
      layout: "{table_name}.{curr_date}.{load_id}.{file_id}",
      currentDatetime: () => new Date(Date.UTC(2025, 0, 2)),
      fileFormat: "csv",
    });
    const pkg = writePackage(join(root, "pk"), loadId, { users: usersRows(loadId) });
    await loadWith(destination, tutorialSchema(), context(root), pkg);
    const fileId = pkg.jobs[0]?.parsed.fileId;
    expect(filesUnder(join(root, "bucket", "tutorial_data"))).toEqual([
      `users.2025-01-02.${loadId}.${fileId}.csv`,
    ]);
  });

  it("should expose where each job's file goes, for staging", async () => {
    const loadId = "1719000001.5";
    const destination = filesystem({ bucketUrl: join(root, "bucket"), fileFormat: "parquet" });
    const pkg = writePackage(join(root, "pk"), loadId, { users: usersRows(loadId) });
    const schema = tutorialSchema();
    await using client = await destination.createClient(schema, context(root));
    await client.initializeStorage();
    const job = await client.createLoadJob(schema.getTable("users") as never, pkg.jobs[0] as never, loadId);
    const fileId = pkg.jobs[0]?.parsed.fileId;
    expect(job.remotePath).toBe(`tutorial_data/users/${loadId}.${fileId}.parquet`);
    expect(job.remoteUrl).toBe(
      `file://${join(root, "bucket", "tutorial_data", "users", `${loadId}.${fileId}.parquet`)}`,
    );
    await job.run();
    expect(client.writtenFiles).toEqual([
      {
        table: "users",
        loadId,
        jobId: `users.${fileId}.jsonl`,
        fileFormat: "parquet",
        path: job.remotePath,
        url: job.remoteUrl,
      },
    ]);
  });
});
