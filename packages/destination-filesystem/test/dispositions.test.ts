/** Write dispositions on plain files: append adds files, replace swaps them after the load, merge fails. */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesystem } from "../src/index.js";
import {
  context,
  duck,
  issuesRows,
  labelsRows,
  loadWith,
  tutorialSchema,
  usersRows,
  writePackage,
} from "./helpers.js";

let root: string;
let bucket: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-fs-disp-"));
  bucket = join(root, "bucket");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const dataset = (): string => join(bucket, "tutorial_data");
const files = (table: string): string[] =>
  existsSync(join(dataset(), table)) ? readdirSync(join(dataset(), table)).sort() : [];

describe("append", () => {
  it("should add a file per load and keep the earlier ones", async () => {
    const destination = filesystem({ bucketUrl: bucket, fileFormat: "parquet" });
    const schema = tutorialSchema();
    for (const loadId of ["1719000000.1", "1719000000.2"]) {
      await loadWith(
        destination,
        schema,
        context(root),
        writePackage(join(root, "pk"), loadId, { users: usersRows(loadId) }),
      );
    }
    expect(files("users")).toHaveLength(2);
    const rows = await duck(
      `SELECT _dlt_load_id, count(*)::INT AS n FROM read_parquet('${dataset()}/users/*.parquet') GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { _dlt_load_id: "1719000000.1", n: 2 },
      { _dlt_load_id: "1719000000.2", n: 2 },
    ]);
  });
});

describe("replace", () => {
  it("should delete the chain's earlier files only once the new ones are written and the load completes", async () => {
    const destination = filesystem({ bucketUrl: bucket });
    const schema = tutorialSchema({ issues: "replace" });
    const first = "1719000000.1";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), first, { issues: issuesRows(first), issues__labels: labelsRows(first) }),
    );
    expect(files("issues")).toHaveLength(1);
    expect(files("issues__labels")).toHaveLength(1);

    // the second load has no labels: the chain's nested table is emptied too
    const second = "1719000000.2";
    const pkg = writePackage(join(root, "pk"), second, { issues: issuesRows(second).slice(0, 1) });
    await loadWith(destination, schema, context(root), pkg, { complete: false });
    // not complete yet: old and new files side by side, no _dlt_loads file for the new load
    expect(files("issues")).toHaveLength(2);
    expect(files("_dlt_loads")).toEqual([`tutorial__${first}.jsonl`]);

    // the resumed load completes it (a new client, as after a crash)
    const client = await destination.createClient(schema, context(root));
    await client.completeLoad(second);
    await client[Symbol.asyncDispose]();
    expect(files("issues")).toEqual([`${second}.${pkg.jobs[0]?.parsed.fileId}.jsonl`]);
    expect(files("issues__labels")).toEqual([]);
    expect(files("_dlt_loads")).toEqual([`tutorial__${first}.jsonl`, `tutorial__${second}.jsonl`]);
    const rows = await duck(
      `SELECT number::INT AS number FROM read_json_auto('${dataset()}/issues/*.jsonl')`,
    );
    expect(rows).toEqual([{ number: 1 }]);
  });

  it("should not touch append tables or replace tables without new files", async () => {
    const destination = filesystem({ bucketUrl: bucket });
    const schema = tutorialSchema({ issues: "replace" });
    const first = "1719000000.1";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), first, { users: usersRows(first), issues: issuesRows(first) }),
    );
    const second = "1719000000.2";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), second, { users: usersRows(second) }),
    );
    expect(files("users")).toHaveLength(2);
    expect(files("issues")).toHaveLength(1);
  });

  it("should empty replace tables before loading when the layout has no {load_id}", async () => {
    const destination = filesystem({ bucketUrl: bucket, layout: "{table_name}/{file_id}.{ext}" });
    const schema = tutorialSchema({ users: "replace" });
    for (const loadId of ["1719000000.1", "1719000000.2"]) {
      await loadWith(
        destination,
        schema,
        context(root),
        writePackage(join(root, "pk"), loadId, { users: usersRows(loadId) }),
      );
    }
    expect(files("users")).toHaveLength(1);
    const rows = await duck(`SELECT DISTINCT _dlt_load_id FROM read_json_auto('${dataset()}/users/*.jsonl')`);
    expect(rows).toEqual([{ _dlt_load_id: "1719000000.2" }]);
  });

  it("should also delete files left in the table folder that do not follow the layout", async () => {
    const destination = filesystem({ bucketUrl: bucket });
    const schema = tutorialSchema({ users: "replace" });
    const first = "1719000000.1";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), first, { users: usersRows(first) }),
    );
    writeFileSync(join(dataset(), "users", "stray.jsonl"), "{}\n");
    const second = "1719000000.2";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), second, { users: usersRows(second) }),
    );
    expect(files("users")).toHaveLength(1);
    expect(files("users")[0]).toMatch(/^1719000000\.2\./);
  });
});

describe("merge", () => {
  it("should fail the job with an error that names the table and suggests append or replace", async () => {
    const destination = filesystem({ bucketUrl: bucket, fileFormat: "parquet" });
    const schema = tutorialSchema({ issues: "merge" });
    const loadId = "1719000000.1";
    const pkg = writePackage(join(root, "pk"), loadId, { issues: issuesRows(loadId) });
    const error = await loadWith(destination, schema, context(root), pkg).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "DESTINATION_TERMINAL",
      retryable: false,
      table: "issues",
      message: expect.stringMatching(
        /Table `issues` has write disposition `merge`, which the filesystem destination cannot do on plain parquet files .* Load it with write disposition `append` or `replace`/,
      ),
    });
    expect(files("issues")).toEqual([]);
  });

  it("should append merge tables when writing as a staging destination", async () => {
    const destination = filesystem({ bucketUrl: bucket, asStagingDestination: true });
    const schema = tutorialSchema({ issues: "merge" });
    const loadId = "1719000000.1";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), loadId, { issues: issuesRows(loadId) }),
    );
    expect(files("issues")).toHaveLength(1);
    expect(files("_dlt_version")).toEqual([]);
  });
});
