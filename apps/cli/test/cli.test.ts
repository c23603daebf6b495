import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { bumpStateVersion, fromTypedJson, type PipelineStateDoc, Schema, toTypedJson } from "@tsdlt/core";
import * as dlt from "tsdlt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { normalizePipelineArgv, runCli } from "../src/cli.js";
import { bin, makePipeline, tsdlt, USERS } from "./helpers.js";

const version = (
  JSON.parse(readFileSync(resolve(import.meta.dirname, "../package.json"), "utf8")) as { version: string }
).version;

let root: string;
let pipelinesDir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-cli-"));
  pipelinesDir = join(root, "pipelines");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** `tsdlt pipeline <name> <args…> --pipelines-dir <dir>`. */
function pipelineCmd(name: string, ...args: string[]) {
  return tsdlt(["pipeline", name, ...args, "--pipelines-dir", pipelinesDir]);
}

async function tableNames(p: dlt.Pipeline): Promise<string[]> {
  const rows = await p.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mydata' ORDER BY table_name",
  );
  return rows.map((r) => String(r.table_name));
}

describe("tsdlt binary", () => {
  it("should print its version and exit 0", () => {
    const { code, out } = tsdlt(["--version"]);
    expect(code).toBe(0);
    expect(out.trim()).toBe(`tsdlt ${version}`);
  });

  it("should exit 2 on a usage error", () => {
    const result = tsdlt(["no-such-command"]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/unknown command 'no-such-command'/);
    expect(tsdlt(["pipeline", "x", "no-such-op", "--pipelines-dir", root]).code).toBe(2);
    expect(tsdlt(["init"]).err).toMatch(/needs a source and a destination/);
    expect(tsdlt(["init"]).code).toBe(2);
    expect(tsdlt(["deploy", "x.ts", "github-action"]).err).toMatch(/required option '--schedule <cron>'/);
  });

  it("should print help for every command and exit 0", () => {
    const cases: [string[], RegExp][] = [
      [["--help"], /Usage: tsdlt \[options\] \[command\][\s\S]*pipeline[\s\S]*init[\s\S]*deploy/],
      [["pipeline", "--help"], /<name> show[\s\S]*<name> drop \[resources\.\.\.\][\s\S]*<name> sync/],
      [
        ["pipeline", "p", "drop", "--help"],
        /Usage: tsdlt pipeline <name> drop \[options\] \[resources\.\.\.\][\s\S]*--yes/,
      ],
      [["pipeline", "p", "show", "--help"], /Usage: tsdlt pipeline <name> show[\s\S]*--port/],
      [["pipeline", "p", "load-package", "--help"], /\[load-id\]/],
      [["pipeline", "p", "schema", "--help"], /--remove-defaults/],
      [["schema", "--help"], /--format <format>/],
      [["init", "--help"], /--list-sources/],
      [["deploy", "--help"], /--schedule <cron>/],
    ];
    for (const [args, expected] of cases) {
      const { code, out } = tsdlt(args);
      expect(code, args.join(" ")).toBe(0);
      expect(out, args.join(" ")).toMatch(expected);
    }
  });

  it("should put the pipeline name before the operation, as dlt does", () => {
    expect(normalizePipelineArgv(["pipeline", "p", "drop", "users", "--yes"])).toEqual([
      "pipeline",
      "drop",
      "p",
      "users",
      "--yes",
    ]);
    expect(normalizePipelineArgv(["pipeline", "--pipelines-dir", "d", "-v", "p"])).toEqual([
      "pipeline",
      "info",
      "p",
      "--pipelines-dir",
      "d",
      "-v",
    ]);
    expect(normalizePipelineArgv(["pipeline", "-l"])).toEqual(["pipeline", "list"]);
    expect(normalizePipelineArgv(["pipeline"])).toEqual(["pipeline", "list"]);
    expect(normalizePipelineArgv(["schema", "f.yaml"])).toEqual(["schema", "f.yaml"]);
  });
});

describe("tsdlt pipeline --list", () => {
  it("should list pipelines, or say there are none", async () => {
    expect(tsdlt(["pipeline", "--list", "--pipelines-dir", pipelinesDir]).out).toBe(
      `No pipelines found in ${pipelinesDir}\n`,
    );
    await makePipeline(root, "one").run(USERS, { tableName: "users" });
    await makePipeline(root, "two").run(USERS, { tableName: "users" });
    for (const flag of ["--list", "-l", "--list-pipelines"]) {
      const { code, out } = tsdlt(["pipeline", flag, "--pipelines-dir", pipelinesDir]);
      expect(code).toBe(0);
      expect(out).toBe(`2 pipelines found in ${pipelinesDir}\none\ntwo\n`);
    }
    const verbose = tsdlt(["pipeline", "-v", "--pipelines-dir", pipelinesDir]);
    expect(verbose.out).toMatch(/^one \(last run: \d{4}-\d\d-\d\dT/m);
  });
});

describe("tsdlt pipeline <name> info", () => {
  it("should show the schema tables, pending and completed packages, the last load and the destination", async () => {
    const p = makePipeline(root, "cli_info");
    const info = await p.run(USERS.slice(0, 2), { tableName: "users" });
    for (const args of [["info"], []]) {
      const { code, out, err } = pipelineCmd("cli_info", ...args);
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(out).toContain(`Found pipeline cli_info in ${pipelinesDir}`);
      expect(out).toContain("dataset_name: mydata");
      expect(out).toContain("destination_type: dlt.destinations.duckdb");
      expect(out).toContain("Resources in schema: cli_info");
      expect(out).toContain("users with 2 table(s) and 0 resource state slot(s)");
      expect(out).toMatch(/ {2}users: 4 column\(s\), received data/);
      expect(out).toContain("Has 0 pending load packages");
      expect(out).toContain("Has 1 completed load packages");
      expect(out).toContain(
        `Last load: ${info.loadsIds[0]} to destination duckdb at duckdb:///${join(root, "cli_info.duckdb")}`,
      );
      expect(out).toContain("Destination dataset mydata: 1 completed load(s)");
      expect(out).toMatch(/ {2}users: 2 row\(s\)/);
      expect(out).toMatch(/ {2}users__tags: 2 row\(s\)/);
    }
    expect(pipelineCmd("cli_info", "info", "-v").out).toMatch(/ {4}name: text/);
  });

  it("should fail with exit code 1 and a clear message for an unknown pipeline", () => {
    const { code, err } = tsdlt(["pipeline", "nope", "info", "--pipelines-dir", root]);
    expect(code).toBe(1);
    expect(err).toMatch(/Cannot attach to pipeline `nope`: no state found/);
  });
});

describe("tsdlt pipeline <name> trace", () => {
  it("should print the last run's trace, or warn when there is none", async () => {
    const p = makePipeline(root, "traced");
    await p.run(USERS, { tableName: "users" });
    const { code, out } = pipelineCmd("traced", "trace");
    expect(code).toBe(0);
    expect(out).toMatch(/^Run started at \S+ and COMPLETED in .+ with 3 steps\.$/m);
    expect(out).toMatch(/^Step extract COMPLETED in /m);
    expect(out).toMatch(/^Step load COMPLETED in /m);
    expect(out).toContain("1 load package(s) were loaded to destination duckdb and into dataset mydata");
    rmSync(join(p.workingDir, "trace.json"));
    const none = pipelineCmd("traced", "trace");
    expect(none.code).toBe(0);
    expect(none.err).toContain("Pipeline does not have last run trace.");
  });
});

describe("tsdlt pipeline <name> failed-jobs and load-package", () => {
  it("should list failed jobs with their file and message, and describe packages", async () => {
    const p = makePipeline(root, "failing");
    const first = await p.run(USERS, { tableName: "users" });
    let out = pipelineCmd("failing", "failed-jobs").out;
    expect(out).toBe(`Checking failed jobs in load id '${first.loadsIds[0]}'\nNo failed jobs found\n`);

    // the table disappears behind the pipeline's back: the next load of it fails terminally
    await p.query('DROP TABLE "mydata"."users__tags"');
    const second = await p.run([{ id: 4, name: "Dan", tags: ["d"] }], {
      tableName: "users",
      raiseOnFailedJobs: false,
    });
    const failedId = second.loadsIds[0] as string;
    out = pipelineCmd("failing", "failed-jobs").out;
    expect(out).toContain(`Checking failed jobs in load id '${failedId}'`);
    expect(out).toMatch(/^JOB: users__tags\.[0-9a-f]{10}\.jsonl\(users__tags\)$/m);
    expect(out).toContain("JOB file type: jsonl");
    expect(out).toMatch(
      new RegExp(`^JOB file path: .*load/loaded/${failedId}/failed_jobs/users__tags\\.`, "m"),
    );
    expect(out).toMatch(/users__tags does not exist/);

    const pkg = pipelineCmd("failing", "load-package");
    expect(pkg.code).toBe(0);
    expect(pkg.out).toContain(
      `Package ${failedId} found in ${join(p.workingDir, "load", "loaded", failedId)}`,
    );
    expect(pkg.out).toMatch(
      new RegExp(`The package with load id ${failedId} for schema failing is in (ABORTED|LOADED) state\\.`),
    );
    expect(pkg.out).toMatch(
      /^Job: users__tags\.\w+\.jsonl, table: users__tags in failed_jobs\. File type: jsonl, size: \d+B\./m,
    );
    expect(pkg.out).toContain("The job FAILED TERMINALLY and cannot be restored.");

    const byId = pipelineCmd("failing", "load-package", first.loadsIds[0] as string, "-v");
    expect(byId.out).toContain("is in LOADED state. It updated schema for 3 tables.");
    expect(byId.out).toMatch(/Schema update:\ntables:\n {2}users:/);
    expect(pipelineCmd("failing", "load-package", first.loadsIds[0] as string).out).toContain(
      "Add -v option to see schema update.",
    );

    const missing = pipelineCmd("failing", "load-package", "123.456");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("Load package 123.456 not found in pipeline failing.");
  });
});

describe("tsdlt pipeline <name> schema and tsdlt schema <file>", () => {
  it("should print the default schema as YAML or JSON and convert schema files", async () => {
    const p = makePipeline(root, "schemas");
    await p.run(USERS, { tableName: "users" });
    const yaml = pipelineCmd("schemas", "schema");
    expect(yaml.code).toBe(0);
    expect(yaml.out).toMatch(/^Found schema with name schemas\nversion: \d+\n/);
    expect(yaml.out).toMatch(
      / {2}users:\n {4}name: users\n {4}columns:\n {6}id:\n {8}name: id\n {8}data_type: bigint/,
    );
    const pretty = pipelineCmd("schemas", "schema", "--remove-defaults");
    expect(pretty.out).toMatch(/ {6}id:\n {8}data_type: bigint/);
    const json = pipelineCmd("schemas", "schema", "--format", "json");
    const doc = JSON.parse(json.out.slice(json.out.indexOf("\n") + 1)) as { tables: Record<string, unknown> };
    expect(Object.keys(doc.tables)).toContain("users__tags");
    expect(pipelineCmd("schemas", "schema", "--format", "dbml").code).toBe(2);

    // tsdlt schema <file>: JSON → YAML → JSON round trip
    const file = join(p.workingDir, "schemas", "schemas.schema.json");
    const asYaml = tsdlt(["schema", file]);
    expect(asYaml.code).toBe(0);
    const yamlFile = join(root, "schemas.schema.yaml");
    writeFileSync(yamlFile, asYaml.out);
    const back = tsdlt(["schema", yamlFile, "--format", "json"]);
    expect(back.code).toBe(0);
    expect(Schema.fromDict(JSON.parse(back.out)).versionHash).toBe(p.defaultSchema.versionHash);
    const bad = join(root, "bad.yaml");
    writeFileSync(bad, "tables: {}\n");
    expect(tsdlt(["schema", bad]).err).toContain("is not a valid schema");
    expect(tsdlt(["schema", bad]).code).toBe(1);
    expect(tsdlt(["schema", join(root, "missing.json")]).code).toBe(1);
  });
});

describe("tsdlt pipeline <name> drop-pending-packages", () => {
  it("should refuse without --yes when it cannot ask, and delete pending packages with --yes", async () => {
    const p = makePipeline(root, "pending");
    await p.run(USERS, { tableName: "users" });
    expect(pipelineCmd("pending", "drop-pending-packages").out).toBe("No pending packages found\n");
    await p.extract([{ id: 9 }], { tableName: "users" });
    await p.extract([{ id: 10 }], { tableName: "users" });
    await p.normalize();
    await p.extract([{ id: 11 }], { tableName: "users" });
    const pending = p.listPendingPackages();
    expect(pending.extracted).toHaveLength(1);
    expect(pending.normalized).toHaveLength(2);

    const refused = pipelineCmd("pending", "drop-pending-packages");
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      `Has 1 extracted packages ready to be normalized with following load ids:\n${pending.extracted[0]}\n`,
    );
    expect(refused.out).toContain("Has 2 normalized packages ready to be loaded with following load ids:");
    expect(refused.err).toContain("Delete the above packages? Cannot ask for confirmation");
    expect(refused.err).toContain("Pass --yes to confirm.");
    expect(p.hasPendingData).toBe(true);

    const done = pipelineCmd("pending", "drop-pending-packages", "--yes");
    expect(done.code).toBe(0);
    expect(done.out).toContain("Delete the above packages? [y/N]: y (--yes)\nPending packages deleted\n");
    expect(p.hasPendingData).toBe(false);
  });
});

describe("confirmation prompts", () => {
  it("should ask on a terminal, act only on yes, and never ask with --non-interactive", async () => {
    const p = makePipeline(root, "asking");
    await p.extract(USERS, { tableName: "users" });
    const questions: string[] = [];
    let out = "";
    const terminal = (answer: string) => ({
      stdout: (t: string) => (out += t),
      stderr: (t: string) => (out += t),
      interactive: true,
      ask: async (q: string) => {
        questions.push(q);
        return answer;
      },
    });
    const args = ["pipeline", "asking", "drop-pending-packages", "--pipelines-dir", pipelinesDir];
    expect(await runCli(args, terminal("n"))).toBe(0);
    expect(questions).toEqual(["Delete the above packages? [y/N]: "]);
    expect(p.hasPendingData).toBe(true);
    expect(await runCli(["--non-interactive", ...args], terminal("y"))).toBe(1);
    expect(questions).toHaveLength(1);
    expect(out).toContain("Pass --yes to confirm.");
    expect(await runCli(args, terminal("yes"))).toBe(0);
    expect(out).toContain("Pending packages deleted");
    expect(p.hasPendingData).toBe(false);
  });
});

describe("tsdlt pipeline <name> drop", () => {
  it("should drop a resource's tables (nested included), its state and its schema, and load it again later", async () => {
    const p = makePipeline(root, "dropping");
    await p.run(USERS, { tableName: "users" });
    await p.run([{ sku: "x", qty: 1 }], { tableName: "orders" });
    // give `users` resource state, stored in the destination by the next run
    const stateFile = join(p.workingDir, "state.json");
    const state = fromTypedJson<PipelineStateDoc>(readFileSync(stateFile, "utf8"));
    state.sources = { dropping: { resources: { users: { cursor: 3 } }, keep: { me: 1 } } };
    bumpStateVersion(state);
    writeFileSync(stateFile, toTypedJson(state, 2));
    await makePipeline(root, "dropping").run([{ sku: "y", qty: 2 }], { tableName: "orders" });

    const refused = pipelineCmd("dropping", "drop", "users");
    expect(refused.code).toBe(1);
    expect(refused.out).toBe(
      [
        "About to drop the following data in dataset mydata in destination duckdb:",
        "Selected schema: dropping",
        "Selected resource(s): ['users']",
        "Table(s) to drop: ['users__tags', 'users']",
        "\twith data in destination: ['users__tags', 'users']",
        "Resource(s) state to reset: ['users']",
        "Source state path(s) to reset: []",
        "",
      ].join("\n"),
    );
    expect(refused.err).toContain("Pass --yes to confirm.");
    expect(await tableNames(p)).toContain("users");

    const dropped = pipelineCmd("dropping", "drop", "re:^us", "--yes");
    expect(dropped.err).toBe("");
    expect(dropped.code).toBe(0);
    expect(dropped.out).toContain("Do you want to apply these changes? [y/N]: y (--yes)");
    expect(dropped.out).toContain("Dropped table(s) ['users__tags', 'users'] in dataset mydata");
    expect(await tableNames(p)).toEqual(["_dlt_loads", "_dlt_pipeline_state", "_dlt_version", "orders"]);

    const after = dlt.attachSync({ pipelineName: "dropping", pipelinesDir });
    expect(after.defaultSchema.getTable("users")).toBeUndefined();
    expect(after.defaultSchema.getTable("users__tags")).toBeUndefined();
    expect(after.state.sources?.dropping?.resources?.users).toBeUndefined();
    expect(after.state.sources?.dropping?.keep).toEqual({ me: 1 });

    // the new state went to the destination: a fresh machine restores it without `users`
    rmSync(pipelinesDir, { recursive: true });
    const restored = makePipeline(root, "dropping");
    await restored.syncDestination();
    expect(restored.state.sources?.dropping?.resources?.users).toBeUndefined();
    expect(restored.defaultSchema.getTable("users")).toBeUndefined();
    expect(restored.defaultSchema.getTable("orders")).toBeDefined();

    // the resource loads again into fresh tables
    await restored.run(USERS.slice(0, 1), { tableName: "users" });
    expect(await restored.query('SELECT count(*) AS n FROM "mydata"."users"')).toEqual([{ n: 1n }]);
  });

  it("should fail clearly on unknown resources and on pending packages", async () => {
    const p = makePipeline(root, "nodrop");
    await p.run(USERS, { tableName: "users" });
    const unknown = pipelineCmd("nodrop", "drop", "nope", "--yes");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain(
      "Specified resource(s) ['nope'] did not select any resource in schema nodrop. Possible resources are: ['users']",
    );
    expect(unknown.out).toContain("tsdlt pipeline -v nodrop info");
    expect(pipelineCmd("nodrop", "drop").code).toBe(2);
    await p.extract([{ id: 5 }], { tableName: "users" });
    const pending = pipelineCmd("nodrop", "drop", "users", "--yes");
    expect(pending.code).toBe(1);
    expect(pending.err).toContain("has pending load packages");
  });
});

describe("tsdlt pipeline <name> sync", () => {
  it("should drop the local state and restore it from the destination", async () => {
    const p = makePipeline(root, "syncing");
    await p.run(USERS, { tableName: "users" });
    const before = p.state;
    // local-only damage: schemas deleted
    rmSync(join(p.workingDir, "schemas"), { recursive: true });
    expect(pipelineCmd("syncing", "sync").code).toBe(1);
    const { code, out, err } = pipelineCmd("syncing", "sync", "--yes");
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toBe(
      [
        "About to drop the local state of the pipeline and reset all the schemas. The destination state, data and schemas are left intact. Proceed? [y/N]: y (--yes)",
        "Dropping local state",
        "Restoring from destination",
        `Restored state version ${before._state_version} and schema(s) syncing of dataset mydata`,
        "",
      ].join("\n"),
    );
    expect(existsSync(join(p.workingDir, "schemas", "syncing.schema.json"))).toBe(true);
    expect(existsSync(join(p.workingDir, "load"))).toBe(false);
    expect(pipelineCmd("syncing", "info").out).toMatch(/ {2}users: 3 row\(s\)/);

    // no local pipeline at all: restore from a named destination
    const elsewhere = join(root, "elsewhere");
    const fresh = tsdlt([
      "pipeline",
      "syncing",
      "sync",
      "--pipelines-dir",
      elsewhere,
      "--destination",
      "duckdb",
      "--credentials",
      join(root, "syncing.duckdb"),
      "--dataset-name",
      "mydata",
      "--yes",
    ]);
    expect(fresh.code).toBe(0);
    expect(dlt.attachSync({ pipelineName: "syncing", pipelinesDir: elsewhere }).state._version_hash).toBe(
      before._version_hash,
    );
    expect(tsdlt(["pipeline", "ghost", "sync", "--pipelines-dir", elsewhere, "--yes"]).err).toContain(
      "Pass --destination",
    );
  });
});

describe("tsdlt config explain", () => {
  it("should show where each value came from, mask secrets, and exit 1 when a key is missing", () => {
    const project = join(root, "project");
    mkdirSync(join(project, ".dlt"), { recursive: true });
    writeFileSync(join(project, ".dlt", "config.toml"), '[sources.github]\nrepo_name = "dlt-hub/dlt"\n');
    writeFileSync(
      join(project, ".dlt", "secrets.toml"),
      '[sources.github]\naccess_token = "ghp_very_secret"\n',
    );
    const env = { ...process.env, DLT_PROJECT_DIR: project, DLT_DATA_DIR: join(root, "global") };
    const found = spawnSync(process.execPath, [bin, "config", "explain", "sources.github.repo_name"], {
      encoding: "utf8",
      env,
    });
    expect(found.status).toBe(0);
    expect(found.stdout).toMatch(/repo_name.*dlt-hub\/dlt.*config\.toml/);
    const secret = spawnSync(
      process.execPath,
      [bin, "config", "explain", "--secret", "sources.github.access_token"],
      {
        encoding: "utf8",
        env,
      },
    );
    expect(secret.status).toBe(0);
    expect(secret.stdout).toMatch(/secrets\.toml/);
    expect(secret.stdout).not.toContain("ghp_very_secret");
    const missing = spawnSync(process.execPath, [bin, "config", "explain", "sources.github.nothing"], {
      encoding: "utf8",
      env,
    });
    expect(missing.status).toBe(1);
  });

  it("should explain every field of the configs a module declares, with dlt's sections and the pipeline prefix", () => {
    const project = join(root, "project");
    mkdirSync(join(project, ".dlt"), { recursive: true });
    writeFileSync(join(project, ".dlt", "config.toml"), '[github_pipeline]\nrepo_name = "dlt-hub/dlt"\n');
    writeFileSync(
      join(project, ".dlt", "secrets.toml"),
      '[destination.my_api]\napi_key = "key-very-secret"\n',
    );
    // A user's module: a source and a sink destination declaring their config (not run on import).
    const tsdltEntry = pathToFileURL(
      resolve(import.meta.dirname, "../../../packages/tsdlt/dist/index.js"),
    ).href;
    const module = join(project, "github.mjs");
    writeFileSync(
      module,
      [
        `import * as dlt from ${JSON.stringify(tsdltEntry)};`,
        "export const githubSource = dlt.source(",
        "  function github_source({ repoName }) { return [{ repo: repoName }]; },",
        '  { section: "github", config: dlt.z.object({ repoName: dlt.z.string(), accessToken: dlt.secret(dlt.z.string()), perPage: dlt.z.int().default(100) }) },',
        ");",
        "export const sink = dlt.destination(async () => {}, {",
        '  name: "my_api",',
        "  config: dlt.z.object({ apiKey: dlt.secret(dlt.z.string()) }),",
        "});",
        "",
      ].join("\n"),
    );
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.includes("__"))),
      DLT_PROJECT_DIR: project,
      DLT_DATA_DIR: join(root, "global"),
      GITHUB_PIPELINE__SOURCES__GITHUB__ACCESS_TOKEN: "ghp_prefixedToken",
    };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [bin, "config", "explain", ...args], {
        encoding: "utf8",
        env,
        cwd: project,
      });

    const found = run("--module", "github.mjs", "--pipeline", "github_pipeline");
    expect(found.stderr).toBe("");
    expect(found.status).toBe(0);
    const lines = found.stdout.split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "source `github_source`:",
      "Configuration `github_source` (pipeline `github_pipeline`):",
      `  repoName    = "dlt-hub/dlt"  <- config.toml \`github_pipeline.repo_name\` (${join(project, ".dlt", "config.toml")})`,
      "  accessToken = ***  <- Environment Variables `GITHUB_PIPELINE__SOURCES__GITHUB__ACCESS_TOKEN`",
      "  perPage     = 100  <- default",
    ]);
    expect(found.stdout).toContain(
      "Keys are looked up at (each first prefixed with `github_pipeline.`): `sources.github.github_source.<key>` → `sources.github.<key>` → `sources.github_source.<key>` → `sources.<key>` → `<key>`",
    );
    expect(found.stdout).toContain("destination `my_api`:");
    expect(found.stdout).toContain(
      `  apiKey = ***  <- secrets.toml \`destination.my_api.api_key\` (${join(project, ".dlt", "secrets.toml")})`,
    );
    expect(found.stdout).not.toContain("ghp_prefixedToken");
    expect(found.stdout).not.toContain("key-very-secret");

    // Without the pipeline prefix the token is not found: every key tried is listed, exit 1.
    const missing = run("--module", "github.mjs");
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain("  accessToken   MISSING (secret); tried in order:");
    expect(missing.stdout).toContain(
      "      (Environment Variables, SOURCES__GITHUB__GITHUB_SOURCE__ACCESS_TOKEN)",
    );
    expect(missing.stderr).toContain("Some values are missing, misplaced or invalid");

    const bad = run("--module", "nope.mjs");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("Cannot import module `nope.mjs`");
    expect(run().status).toBe(2);
  });
});
