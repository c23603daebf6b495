/**
 * `staging: "filesystem"` as a user runs it (issue 10, item 3): plain `node` scripts in a project
 * folder that links the built packages (`tsdlt`, `@tsdlt/destination-postgres`,
 * `@tsdlt/destination-filesystem`, `@tsdlt/rest-client`), the staging bucket from
 * `DESTINATION__FILESYSTEM__BUCKET_URL` and Postgres from `DESTINATION__POSTGRES__CREDENTIALS` (the
 * server in `TSDLT_POSTGRES_URL`). The scripts run against the built packages (see `node-project.ts`):
 * build first (`npx tsc -b`).
 *
 * - The getting-started tutorial's merge step (the built example, GitHub issues served by the local
 *   fixture server) through staging into Postgres and into DuckDB: the same rows, one per issue, and
 *   the staged files on disk as `{table_name}/{load_id}.{file_id}.{ext}`.
 * - Postgres from staged csv with cleanup after the load, and a failed staged load finished by the next
 *   run from the files it staged.
 * - An `s3://` staging bucket on moto (when `moto_server` is installed): Postgres streams the staged
 *   objects; DuckDB fails with a clear error (no `httpfs` offline).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GithubServer, startGithubServer } from "../../../apps/examples/test/github-server.js";
import {
  assertBuilt,
  dropPostgresDatasets,
  nodeProject,
  POSTGRES_ENV,
  POSTGRES_URL,
  REPO,
  resultOf,
  runScript,
  SCRIPT_HELPERS,
} from "./node-project.js";

const LINKED = [
  "tsdlt",
  "@tsdlt/core",
  "@tsdlt/destination-postgres",
  "@tsdlt/destination-filesystem",
  "@tsdlt/rest-client",
];
const BUILT = [
  join(REPO, "packages/tsdlt/dist/index.js"),
  join(REPO, "packages/destination-postgres/dist/index.js"),
  join(REPO, "packages/destination-filesystem/dist/index.js"),
  join(REPO, "apps/examples/dist/github-issues-merge.js"),
];

/** Prints the tutorial's issues and the counts of its nested tables. */
const ISSUES_OF = `import { dlt, result, silent } from "./helpers.mjs";
const [kind] = process.argv.slice(2);
const p = dlt.pipeline({ pipelineName: "github_issues_merge", destination: kind, datasetName: "github_data_merge", logger: silent });
const t = (name) => "github_data_merge." + name;
const issues = await p.query("SELECT CAST(number AS INT) AS number, title, CAST(updated_at AS VARCHAR) AS updated_at FROM " + t("issues") + " ORDER BY number");
const states = await p.query("SELECT CAST(count(*) AS INT) AS n FROM " + t("_dlt_pipeline_state"));
const loads = await p.query("SELECT load_id FROM " + t("_dlt_loads") + " ORDER BY load_id");
result({ issues: issues.map((r) => ({ ...r, updated_at: new Date(r.updated_at).toISOString() })), states: states[0].n, loads: loads.map((r) => r.load_id) });`;

let root: string;

/** A project folder `root/<name>` linking the built packages, with the scripts' `helpers.mjs` and `files`. */
const project = (name: string, files: Record<string, string> = {}): string =>
  nodeProject(join(root, name), LINKED, { "helpers.mjs": SCRIPT_HELPERS, ...files });

/** Staged files of a table folder: `{load_id}.{file_id}.{ext}` names. */
function stagedFiles(bucket: string, dataset: string, table: string): string[] {
  const folder = join(bucket, dataset, table);
  return existsSync(folder) ? readdirSync(folder).sort() : [];
}

const loadIdOf = (file: string): string => file.split(".").slice(0, 2).join(".");

interface Issues {
  readonly issues: { number: number; title: string; updated_at: string }[];
  readonly states: number;
  readonly loads: string[];
}

describe.skipIf(!POSTGRES_URL)("staging through the filesystem as a user runs it", () => {
  let github: GithubServer;

  beforeAll(async () => {
    assertBuilt(BUILT);
    github = await startGithubServer();
  });
  afterAll(async () => {
    await github?.close();
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-staging-it-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("should run the tutorial's merge step through staging into Postgres and DuckDB with the same rows", async () => {
    const source = readFileSync(join(REPO, "apps/examples/dist/github-issues-merge.js"), "utf8");
    const pgProject = project("pg");
    const duckProject = project("duck");
    const pgBucket = join(root, "pg-bucket");
    const duckBucket = join(root, "duck-bucket");
    await dropPostgresDatasets(pgProject, "github_data_merge");
    try {
      const runs = [
        ["postgres", pgProject, pgBucket, POSTGRES_ENV],
        ["duckdb", duckProject, duckBucket, {}],
      ] as const;
      for (const [kind, cwd, bucket, extra] of runs) {
        const code = source.replace('destination: "duckdb"', `destination: "${kind}", staging: "filesystem"`);
        expect(code).not.toBe(source);
        const env = {
          SOURCES__GITHUB__BASE_URL: github.url,
          DESTINATION__FILESYSTEM__BUCKET_URL: bucket,
          ...extra,
        };
        github.variant = "recorded";
        const first = await runScript(cwd, "merge.mjs", code, [], env);
        expect(first.stderr).not.toMatch(/Error|failed/);
        expect(first.code).toBe(0);
        expect(first.stdout).toContain(
          `The filesystem staging destination used file://${bucket} location to stage data`,
        );
        const firstFiles = stagedFiles(bucket, "github_data_merge", "issues");
        expect(firstFiles).toHaveLength(1);
        github.variant = "next-day";
        const second = await runScript(cwd, "merge.mjs", code, [], env);
        expect(second.code).toBe(0);
        // the second load staged its own files and deleted the first load's (dlt's truncation)
        const files = stagedFiles(bucket, "github_data_merge", "issues");
        expect(files).toHaveLength(1);
        expect(loadIdOf(files[0] as string)).not.toBe(loadIdOf(firstFiles[0] as string));
        // the default staged format: jsonl for Postgres, parquet for DuckDB
        const ext = kind === "postgres" ? "jsonl" : "parquet";
        expect(files[0]).toMatch(new RegExp(`^\\d+\\.\\d+\\.[0-9a-f]{10}\\.${ext}$`));
        const states = stagedFiles(bucket, "github_data_merge", "_dlt_pipeline_state");
        // the state went through staging too, in the same load
        expect(states.map(loadIdOf)).toEqual([loadIdOf(files[0] as string)]);
        expect(states[0]?.endsWith(`.${ext}`)).toBe(true);
      }
      const pg = resultOf<Issues>(
        await runScript(pgProject, "issues.mjs", ISSUES_OF, ["postgres"], POSTGRES_ENV),
      );
      const duck = resultOf<Issues>(await runScript(duckProject, "issues.mjs", ISSUES_OF, ["duckdb"], {}));
      expect(pg.issues).toEqual(duck.issues);
      expect(pg.states).toBe(duck.states);
      expect(pg.issues.map((r) => r.number)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      // the second run replaced issue 13 (renamed) and 5 (commented) by their next-day versions
      expect(pg.issues.find((r) => r.number === 13)?.updated_at).toBe("2017-10-11T09:00:00.000Z");
      expect(pg.issues.find((r) => r.number === 5)?.updated_at).toBe("2017-10-11T10:30:00.000Z");
      expect(pg.loads).toHaveLength(2);
      expect(pg.loads[1]).toBe(loadIdOf(stagedFiles(pgBucket, "github_data_merge", "issues")[0] as string));
    } finally {
      await dropPostgresDatasets(pgProject, "github_data_merge");
    }
  }, 120_000);

  it("should load staged csv into Postgres and delete the staged files with keep_staged_files off", async () => {
    const cwd = project("csv");
    const bucket = join(root, "bucket");
    const dataset = `staged_csv_${randomBytes(3).toString("hex")}`;
    const code = `import { dlt, result, silent } from "./helpers.mjs";
const [dataset] = process.argv.slice(2);
const p = dlt.pipeline({ pipelineName: "staged_csv", destination: "postgres", staging: "filesystem", datasetName: dataset, logger: silent });
const rows = [
  { id: 1, title: 'a, "quoted"\\nline ✓', score: 1.5, flag: true, at: new Date("2024-05-01T10:00:00.123Z"), doc: { a: [1] }, big: 9007199254740993n, tags: ["x", "y"] },
  { id: 2, title: null, score: null, flag: false, at: null, doc: null, big: -1n, tags: [] },
];
const infos = [
  await p.run(rows, { tableName: "items", writeDisposition: "merge", primaryKey: "id", loaderFileFormat: "csv", columns: { doc: { data_type: "json" } } }),
  await p.run([{ id: 2, title: "two", score: 2, flag: true, big: 2n, tags: ["z"] }], { tableName: "items", writeDisposition: "merge", primaryKey: "id", loaderFileFormat: "csv" }),
];
const formats = [...new Set(infos.flatMap((i) => i.loadPackages.flatMap((pk) => pk.jobs.map((j) => j.fileName.split(".").at(-1)))))].sort();
const items = await p.query("SELECT id::int, title, score, flag, at::text AS at, doc::text AS doc, big::text AS big FROM " + dataset + ".items ORDER BY id");
const tags = await p.query("SELECT t.value FROM " + dataset + ".items__tags t ORDER BY t.value");
result({ items, tags: tags.map((r) => r.value), formats });`;
    const env = {
      ...POSTGRES_ENV,
      DESTINATION__FILESYSTEM__BUCKET_URL: bucket,
      DESTINATION__FILESYSTEM__KEEP_STAGED_FILES: "false",
    };
    try {
      const out = resultOf<{ items: Record<string, unknown>[]; tags: string[]; formats: string[] }>(
        await runScript(cwd, "csv.mjs", code, [dataset], env),
      );
      // Postgres prefers csv job files, but with staging normalize writes jsonl (staged as csv) (issue 12)
      expect(out.formats).toEqual(["jsonl", "reference", "sql"]);
      expect(out.items).toEqual([
        {
          id: 1,
          title: 'a, "quoted"\nline ✓',
          score: 1.5,
          flag: true,
          at: "2024-05-01 10:00:00.123+00",
          doc: '{"a": [1]}',
          big: "9007199254740993",
        },
        { id: 2, title: "two", score: 2, flag: true, at: null, doc: null, big: "2" },
      ]);
      expect(out.tags).toEqual(["x", "y", "z"]);
      // every staged file was deleted once its load completed; the table folders stay
      for (const table of ["items", "items__tags", "_dlt_pipeline_state"])
        expect(stagedFiles(bucket, dataset, table), table).toEqual([]);
      expect(existsSync(join(bucket, dataset, "items"))).toBe(true);
    } finally {
      await dropPostgresDatasets(cwd, dataset);
    }
  }, 60_000);

  it("should finish a failed staged Postgres load from the files it staged", async () => {
    const cwd = project("crash");
    const bucket = join(root, "bucket");
    const dataset = `staged_crash_${randomBytes(3).toString("hex")}`;
    // the first run's destination fails terminally where it would write `_dlt_loads`, after staging and COPY
    const code = `import { DestinationError } from "@tsdlt/core";
import { postgres } from "@tsdlt/destination-postgres";
import { dlt, result, silent } from "./helpers.mjs";
const [dataset, mode] = process.argv.slice(2);
const pg = postgres();
const failing = { ...pg, createClient: async (schema, context) => {
  const client = await pg.createClient(schema, context);
  return new Proxy(client, { get(target, prop) {
    if (prop === "completeLoad") return async () => { throw new DestinationError("simulated crash before _dlt_loads", { code: "DESTINATION_TERMINAL", retryable: false }); };
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  } });
} };
const p = dlt.pipeline({ pipelineName: "staged_crash", destination: mode === "crash" ? failing : pg, staging: "filesystem", datasetName: dataset, logger: silent });
if (mode === "crash") {
  try { await p.run([{ id: 1 }, { id: 2 }], { tableName: "numbers" }); } catch (e) { result({ error: e.message, pending: p.listPendingPackages().normalized }); }
} else {
  const info = await p.run();
  const rows = await p.query("SELECT id::int FROM " + dataset + ".numbers ORDER BY id");
  const loads = await p.query("SELECT load_id FROM " + dataset + "._dlt_loads");
  result({ loaded: info.loadsIds, rows: rows.map((r) => r.id), loads: loads.map((r) => r.load_id) });
}`;
    const env = { ...POSTGRES_ENV, DESTINATION__FILESYSTEM__BUCKET_URL: bucket };
    try {
      const crashed = resultOf<{ error: string; pending: string[] }>(
        await runScript(cwd, "crash.mjs", code, [dataset, "crash"], env),
      );
      expect(crashed.error).toMatch(/simulated crash before _dlt_loads/);
      expect(crashed.pending).toHaveLength(1);
      const files = stagedFiles(bucket, dataset, "numbers");
      expect(files).toHaveLength(1);
      const stagedAt = statSync(join(bucket, dataset, "numbers", files[0] as string)).mtimeMs;
      const resumed = resultOf<{ loaded: string[]; rows: number[]; loads: string[] }>(
        await runScript(cwd, "crash.mjs", code, [dataset, "resume"], env),
      );
      // the package committed once, from the staged file, which was neither lost nor staged again
      expect(resumed).toEqual({ loaded: crashed.pending, rows: [1, 2], loads: crashed.pending });
      expect(stagedFiles(bucket, dataset, "numbers")).toEqual(files);
      expect(statSync(join(bucket, dataset, "numbers", files[0] as string)).mtimeMs).toBe(stagedAt);
    } finally {
      await dropPostgresDatasets(cwd, dataset);
    }
  }, 60_000);

  describe("s3:// staging on moto", () => {
    const moto = [process.env.TSDLT_MOTO_SERVER, join(REPO, ".ci", ".venv-moto", "bin", "moto_server")].find(
      (p) =>
        p !== undefined &&
        p !== "" &&
        existsSync(p) &&
        spawnSync(p, ["-h"], { stdio: "ignore" }).status === 0,
    );
    let server: ChildProcess | undefined;
    let endpoint = "";

    beforeAll(async () => {
      if (moto === undefined) return;
      const port = await new Promise<number>((done, fail) => {
        const s = createServer();
        s.once("error", fail);
        s.listen(0, "127.0.0.1", () => {
          const address = s.address();
          s.close(() => done(typeof address === "object" && address ? address.port : 0));
        });
      });
      endpoint = `http://127.0.0.1:${port}`;
      server = spawn(moto, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          if ((await fetch(`${endpoint}/`)).status < 500) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`moto_server did not start on ${endpoint}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 60_000);
    afterAll(() => {
      if (server?.pid !== undefined) process.kill(server.pid, "SIGTERM");
    });

    it.skipIf(moto === undefined)(
      "should stream staged s3:// objects into Postgres, and explain that DuckDB cannot read them",
      async () => {
        const bucketName = `tsdlt-staging-${randomBytes(3).toString("hex")}`;
        const dataset = `staged_s3_${randomBytes(3).toString("hex")}`;
        const code = `import { createRequire } from "node:module";
import { dlt, result, silent } from "./helpers.mjs";
const [kind, dataset, bucketName, endpoint] = process.argv.slice(2);
const s3sdk = createRequire(${JSON.stringify(join(REPO, "packages/destination-filesystem/package.json"))})("@aws-sdk/client-s3");
const s3 = new s3sdk.S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
if (kind === "postgres") await s3.send(new s3sdk.CreateBucketCommand({ Bucket: bucketName }));
const p = dlt.pipeline({ pipelineName: "staged_s3_" + kind, destination: kind, staging: "filesystem", datasetName: dataset, logger: silent });
let error;
try {
  await p.run([{ id: 1, name: "Alice", tags: ["a"] }, { id: 2, name: "Bob", tags: [] }], { tableName: "users" });
} catch (e) { error = e.message; }
const keys = (await s3.send(new s3sdk.ListObjectsV2Command({ Bucket: bucketName, Prefix: "lake/" + dataset + "/users/" }))).Contents?.map((c) => c.Key) ?? [];
const rows = error ? [] : await p.query("SELECT id::int AS id, name FROM " + dataset + ".users ORDER BY id");
s3.destroy();
result({ error, keys, rows });`;
        // the bucket and its credentials as a user configures them
        const cwd = project("s3", {
          ".dlt/config.toml": `[destination.filesystem]\nbucket_url = "s3://${bucketName}/lake"\n`,
          ".dlt/secrets.toml": `[destination.filesystem.credentials]\naws_access_key_id = "testing"\naws_secret_access_key = "testing"\nregion_name = "us-east-1"\nendpoint_url = "${endpoint}"\n`,
        });
        const env = POSTGRES_ENV;
        try {
          type Out = { error?: string; keys: string[]; rows: { id: number; name: string }[] };
          const pg = resultOf<Out>(
            await runScript(cwd, "s3.mjs", code, ["postgres", dataset, bucketName, endpoint], env),
          );
          expect(pg.error).toBeUndefined();
          expect(pg.rows).toEqual([
            { id: 1, name: "Alice" },
            { id: 2, name: "Bob" },
          ]);
          expect(pg.keys).toEqual([
            expect.stringMatching(new RegExp(`^lake/${dataset}/users/\\d+\\.\\d+\\.[0-9a-f]{10}\\.jsonl$`)),
          ]);
          const duck = resultOf<Out>(
            await runScript(cwd, "s3.mjs", code, ["duckdb", dataset, bucketName, endpoint], env),
          );
          expect(duck.error).toMatch(/is not local: DuckDB would need its `httpfs` extension/);
          // DuckDB's load staged its own file (the Postgres load's was truncated first); it stays for a re-run
          expect(duck.keys).toHaveLength(1);
          expect(duck.keys).not.toEqual(pg.keys);
        } finally {
          await dropPostgresDatasets(cwd, dataset);
        }
      },
      90_000,
    );
  });
});
