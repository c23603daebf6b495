/**
 * `s3://` buckets against a local S3-compatible server: moto's server mode, started by this file on
 * 127.0.0.1 and a free port. Skipped (with the reason printed) when `moto_server` is not installed;
 * `.ci/run` installs it into `.ci/.venv-moto` and exports `TSDLT_MOTO_SERVER`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifyS3Error, filesystem } from "../src/index.js";
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

const REPO = fileURLToPath(new URL("../../..", import.meta.url));

/** A `moto_server` that runs: `TSDLT_MOTO_SERVER`, `.ci/.venv-moto`, or one on PATH. */
function findMoto(): string | undefined {
  const candidates = [
    process.env.TSDLT_MOTO_SERVER,
    join(REPO, ".ci", ".venv-moto", "bin", "moto_server"),
    "moto_server",
  ].filter((p): p is string => p !== undefined && p !== "");
  return candidates.find(
    (p) =>
      (p.includes("/") ? existsSync(p) : true) &&
      spawnSync(p, ["-h"], { stdio: "ignore", timeout: 30_000 }).status === 0,
  );
}

const moto = findMoto();
if (moto === undefined) {
  console.warn(
    "[destination-filesystem] S3 tests skipped: `moto_server` not found. Install it with " +
      '`python3 -m venv .ci/.venv-moto && .ci/.venv-moto/bin/pip install "moto[server]"` or set TSDLT_MOTO_SERVER.',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

const credentials = { awsAccessKeyId: "testing", awsSecretAccessKey: "testing", regionName: "us-east-1" };

describe.skipIf(moto === undefined)("s3:// against moto", () => {
  let server: ChildProcess | undefined;
  let endpointUrl = "";
  let s3: S3Client;
  let root: string;
  let bucketName = "";
  let n = 0;

  beforeAll(async () => {
    const port = await freePort();
    endpointUrl = `http://127.0.0.1:${port}`;
    server = spawn(moto as string, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${endpointUrl}/`)).status < 500) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`moto_server did not start on ${endpointUrl} within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    s3 = new S3Client({
      region: "us-east-1",
      endpoint: endpointUrl,
      forcePathStyle: true,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
  }, 60_000);

  afterAll(() => {
    s3?.destroy();
    if (server?.pid !== undefined) process.kill(server.pid, "SIGTERM");
  });

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-fs-s3-"));
    bucketName = `tsdlt-test-${process.pid}-${n++}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
    return () => rmSync(root, { recursive: true, force: true });
  });

  async function keys(prefix: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucketName, Prefix: prefix }));
    return (out.Contents ?? []).map((c) => c.Key as string).sort();
  }

  async function download(key: string): Promise<string> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
    const path = join(root, key.replaceAll("/", "_"));
    writeFileSync(path, await (out.Body?.transformToByteArray() as Promise<Uint8Array>));
    return path;
  }

  it("should load the tutorial as parquet, readable by DuckDB, with the system files", async () => {
    const destination = filesystem({
      bucketUrl: `s3://${bucketName}/lake`,
      fileFormat: "parquet",
      credentials: { ...credentials, endpointUrl },
    });
    const loadId = "1719000000.5";
    const pkg = writePackage(join(root, "pk"), loadId, {
      users: usersRows(loadId),
      issues: issuesRows(loadId),
      issues__labels: labelsRows(loadId),
    });
    const schema = tutorialSchema();
    const client = await loadWith(destination, schema, context(root), pkg);
    const all = await keys("lake/tutorial_data/");
    const ids = Object.fromEntries(pkg.jobs.map((j) => [j.parsed.tableName, j.parsed.fileId]));
    expect(all).toHaveLength(6);
    expect(all).toEqual(
      expect.arrayContaining([
        "lake/tutorial_data/init",
        `lake/tutorial_data/_dlt_loads/tutorial__${loadId}.jsonl`,
        expect.stringMatching(/^lake\/tutorial_data\/_dlt_version\/tutorial__[\d.]+__[0-9a-f]+\.jsonl$/),
        `lake/tutorial_data/issues/${loadId}.${ids.issues}.parquet`,
        `lake/tutorial_data/issues__labels/${loadId}.${ids.issues__labels}.parquet`,
        `lake/tutorial_data/users/${loadId}.${ids.users}.parquet`,
      ]),
    );
    expect(client.writtenFiles.map((f) => f.url).sort()).toEqual(
      all.filter((k) => k.endsWith(".parquet")).map((k) => `s3://${bucketName}/${k}`),
    );
    const issues = await download(`lake/tutorial_data/issues/${loadId}.${ids.issues}.parquet`);
    expect(
      await duck(
        `SELECT id::VARCHAR AS id, created_at::VARCHAR AS created_at FROM read_parquet('${issues}') ORDER BY number`,
      ),
    ).toEqual([
      { id: "2147483648001", created_at: "2024-03-01 10:20:30.123456+00" },
      { id: "2", created_at: "1969-07-20 20:17:40.000001+00" },
    ]);

    await using reader = await destination.createClient(schema, context(root));
    expect(await reader.isStorageInitialized()).toBe(true);
    expect((await reader.getStoredSchema())?.versionHash).toBe(schema.versionHash);
    expect(destination.displayLocation(context(root))).toBe(`s3://${bucketName}/lake`);
  });

  it("should replace the earlier files of a replace table and restore state from the bucket", async () => {
    const destination = filesystem({
      bucketUrl: `s3://${bucketName}`,
      credentials: { ...credentials, endpointUrl },
    });
    const schema = tutorialSchema({ users: "replace" });
    const state = (loadId: string) => ({
      version: 3,
      engine_version: 4,
      pipeline_name: "tutorial",
      state: "eNqrVkrLz1eyUlAqSizLz0nNy1eqBQAzYgXy",
      created_at: "2024-05-01T00:00:00Z",
      version_hash: "aGFzaA==",
      _dlt_load_id: loadId,
      _dlt_id: "x",
    });
    for (const loadId of ["1719000000.1", "1719000000.2"]) {
      await loadWith(
        destination,
        schema,
        context(root),
        writePackage(join(root, "pk"), loadId, {
          users: usersRows(loadId),
          _dlt_pipeline_state: [state(loadId)],
        }),
      );
    }
    expect(
      (await keys("tutorial_data/users/")).map((k) => k.split("/")[2]?.split(".").slice(0, 2).join(".")),
    ).toEqual(["1719000000.2"]);
    await using client = await destination.createClient(schema, context(root));
    expect(await client.getStoredState("tutorial")).toMatchObject({ loadId: "1719000000.2", version: 3 });
  });

  it("should fail terminally, saying why, when the bucket does not exist", async () => {
    const destination = filesystem({
      bucketUrl: "s3://no-such-bucket-tsdlt",
      credentials: { ...credentials, endpointUrl },
    });
    await using client = await destination.createClient(tutorialSchema(), context(root));
    const error = await client.initializeStorage().catch((e: unknown) => e);
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/no-such-bucket-tsdlt.*does not create buckets/s),
    });
  });
});

describe("classifyS3Error", () => {
  it.each([
    [{ name: "SlowDown", $metadata: { httpStatusCode: 503 } }, "transient"],
    [{ name: "InternalError", $metadata: { httpStatusCode: 500 } }, "transient"],
    [{ name: "Whatever", $metadata: { httpStatusCode: 429 } }, "transient"],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "transient"],
    [{ name: "NoSuchKey", $metadata: { httpStatusCode: 404 } }, "not_found"],
    [{ name: "NoSuchBucket", $metadata: { httpStatusCode: 404 } }, "not_found"],
    [{ name: "AccessDenied", $metadata: { httpStatusCode: 403 } }, "access_denied"],
    [{ name: "InvalidAccessKeyId", $metadata: { httpStatusCode: 403 } }, "access_denied"],
    [{ name: "InvalidRequest", $metadata: { httpStatusCode: 400 } }, "terminal"],
  ])("should classify %o as %s", (error, reason) => {
    expect(classifyS3Error(error)).toBe(reason);
  });
});
