/**
 * The built `tsdlt` binary on a pipeline that loads into the real Postgres server in
 * `TSDLT_POSTGRES_URL` (issue 11): `info -v`, `trace`, `load-package`, `show` (over HTTP and in a
 * headless Chromium), `drop` and `sync`, each checked against the command's output and the tables and
 * state left in Postgres. The pipeline is loaded by a plain Node script, as a user's script would
 * load it (see `node-project.ts`); the CLI runs from a folder of its own whose
 * `.dlt/secrets.toml` holds the credentials, with no Postgres package installed there: it uses the
 * Postgres destination it bundles. Needs the packages built (`npx tsc -b`).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  cleanEnv,
  type NodeRun,
  nodeProject,
  POSTGRES_ENV,
  POSTGRES_URL,
  postgresTitle,
  RESULT_FUNCTION,
  resultOf,
  runNode,
} from "../../../packages/tsdlt/test/node-project.js";
import { expectQueryOfUsers, hasChromium, openChromium, openUsersTable, runSql } from "./chromium.js";
import { bin, type ShowProcess, startShow } from "./helpers.js";

/** Loads two resources (users with nested tags, merged on `id`; events) into `CliData_<suffix>`. */
const LOAD = `
import * as dlt from "tsdlt";
const [suffix, pipelinesDir] = process.argv.slice(2);
const users = dlt.resource(
  [{ id: 1, name: "Alice", tags: ["a", "b"] }, { id: 2, name: "Bob", tags: [] }, { id: 3, name: "Carol", tags: ["c"] }],
  { name: "users", primaryKey: "id", writeDisposition: "merge" },
);
const events = dlt.resource([{ id: 1, kind: "signup" }, { id: 2, kind: "login" }], { name: "events" });
const crm = dlt.source(function crm() { return [users, events]; });
const pipeline = dlt.pipeline({ pipelineName: "cli_pg_" + suffix, pipelinesDir, destination: "postgres", datasetName: "CliData_" + suffix });
console.log(String(await pipeline.run(crm())));
`;

/** Prints the tables of the dataset and its stored schema's tables; `drop` as 3rd argument drops the dataset. */
const PROBE = `
import * as dlt from "tsdlt";
${RESULT_FUNCTION}
const [dataset, action] = process.argv.slice(2);
const probe = dlt.pipeline({ pipelineName: "probe", pipelinesDir: "probe", destination: "postgres", datasetName: dataset });
const client = await probe.sqlClient();
try {
  if (action === "drop") {
    for (const name of [client.datasetName, client.datasetName + "_staging"]) await client.query("DROP SCHEMA IF EXISTS " + JSON.stringify(name) + " CASCADE");
    result({});
  } else {
    const tables = (await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", [client.datasetName],
    )).map((r) => r.table_name);
    const [version] = await client.query("SELECT schema FROM " + client.qualifiedTableName("_dlt_version") + " ORDER BY inserted_at DESC LIMIT 1");
    result({ tables, storedSchemaTables: version ? Object.keys(JSON.parse(version.schema).tables).sort() : [] });
  }
} finally {
  await client[Symbol.asyncDispose]();
}
`;

describe.skipIf(!POSTGRES_URL)(postgresTitle("tsdlt on a Postgres pipeline"), () => {
  let root: string;
  let project: string;
  let cliDir: string;
  let pipelinesDir: string;
  let name: string;
  let dataset: string;
  const password = POSTGRES_URL ? decodeURIComponent(new URL(POSTGRES_URL).password) : "";

  /** Runs the built binary in the CLI's folder (credentials from its `.dlt/secrets.toml` only). */
  const cli = (...args: string[]): Promise<NodeRun> => runNode(cliDir, [bin, ...args], cleanEnv(cliDir));
  const pipelineCmd = (...args: string[]) => cli("pipeline", name, ...args, "--pipelines-dir", pipelinesDir);
  const probe = async (action?: string) =>
    resultOf<{ tables: string[]; storedSchemaTables: string[] }>(
      await runNode(
        project,
        ["probe.mjs", dataset, ...(action ? [action] : [])],
        cleanEnv(project, POSTGRES_ENV),
      ),
    );

  beforeAll(async () => {
    assertBuilt([bin]);
    root = mkdtempSync(join(tmpdir(), "tsdlt-cli-pg-"));
    const suffix = randomBytes(3).toString("hex");
    name = `cli_pg_${suffix}`;
    dataset = `cli_data_${suffix}`;
    pipelinesDir = join(root, "pipelines");
    project = nodeProject(join(root, "project"), ["tsdlt", "@tsdlt/destination-postgres"], {
      "load.mjs": LOAD,
      "probe.mjs": PROBE,
    });
    cliDir = join(root, "cli");
    mkdirSync(join(cliDir, ".dlt"), { recursive: true });
    writeFileSync(
      join(cliDir, ".dlt", "secrets.toml"),
      `[destination.postgres]\ncredentials = ${JSON.stringify(POSTGRES_URL)}\n`,
    );
    const load = await runNode(project, ["load.mjs", suffix, pipelinesDir], cleanEnv(project, POSTGRES_ENV));
    expect(load.stderr).toBe("");
    expect(load.stdout).toContain(`loaded to destination postgres and into dataset ${dataset}`);
  }, 60_000);

  afterAll(async () => {
    if (!root) return;
    try {
      await probe("drop");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  it("info -v should print state, schema and the destination's tables and loads", async () => {
    const run = await pipelineCmd("info", "-v");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain(`Found pipeline ${name} in ${pipelinesDir}`);
    expect(out).toContain("destination_type: dlt.destinations.postgres");
    expect(out).toContain(`dataset_name: CliData_${name.slice("cli_pg_".length)}`);
    expect(out).toMatch(
      /users with 2 table\(s\)[\s\S]*users: 4 column\(s\), received data\n {4}id: bigint not null/,
    );
    expect(out).toMatch(/Last load: \d+\.\d+ to destination postgres at postgresql:\/\/[^:]+:\*\*\*@/);
    expect(out).toContain(`Destination dataset ${dataset}: 1 completed load(s)`);
    expect(out).toContain("  users: 3 row(s)\n  events: 2 row(s)\n  users__tags: 3 row(s)\n");
    expect(out).not.toContain(password);
  });

  it("trace and load-package should describe the last run and its package", async () => {
    const trace = await pipelineCmd("trace");
    expect(trace.code).toBe(0);
    expect(trace.stdout).toMatch(/^Run started at .+ and COMPLETED in .+ with 3 steps\./);
    expect(trace.stdout).toContain(`into dataset ${dataset}`);
    expect(trace.stdout).not.toContain(password);
    const pkg = await pipelineCmd("load-package", "-v");
    expect(pkg.code).toBe(0);
    expect(pkg.stdout).toMatch(
      /The package with load id \d+\.\d+ for schema crm is in LOADED state\. It updated schema for \d+ tables\./,
    );
    // Postgres loads csv job files (issue 12)
    expect(pkg.stdout).toMatch(
      /Job: users\.\w+\.csv, table: users in completed_jobs\. File type: csv, size: /,
    );
    expect(pkg.stdout).toContain("Schema update:");
  });

  it("show should serve the tables, rows and SQL of the Postgres dataset", { timeout: 120_000 }, async () => {
    const show: ShowProcess = await startShow(pipelinesDir, name, { cwd: cliDir, env: cleanEnv(cliDir) });
    let context: BrowserContext | undefined;
    try {
      const overview = await (await fetch(show.url)).text();
      expect(overview).toContain(`dataset <b>${dataset}</b>`);
      for (const table of ["users__tags", "events"]) expect(overview).toContain(`/tables/${table}"`);
      const api = await fetch(`${show.url}api/sql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sql: `SELECT count(*) AS n FROM "${dataset}"."users__tags"` }),
      });
      expect(await api.json()).toEqual({ columns: ["n"], rows: [[3]], truncated: false });

      if (!hasChromium("postgres.integration: the browser part")) return;
      const opened = await openChromium(root);
      context = opened.context;
      const page = opened.page;
      await openUsersTable(page, show.url);
      // the example query names the Postgres table as the destination does
      expect(await page.locator("#sql").inputValue()).toBe(`SELECT * FROM "${dataset}"."users" LIMIT 10`);

      await expectQueryOfUsers(page, `"${dataset}"."users"`);

      await runSql(page, `DELETE FROM "${dataset}"."users"`);
      await expect.poll(() => page.locator("#sql-result .error").textContent()).toMatch(/read-only/);
      await runSql(page, `SELECT nope FROM "${dataset}"."users"`);
      await expect
        .poll(() => page.locator("#sql-result .error").textContent())
        .toMatch(/column "nope" does not exist/);
      const file = join(root, "show-postgres.png");
      await page.screenshot({ path: file, fullPage: true });
      expect(readFileSync(file).subarray(1, 4).toString()).toBe("PNG");
    } finally {
      await context?.close();
      await show.stop();
    }
    expect((await probe()).tables).toContain("users");
  });

  it("drop should drop a resource's table in Postgres and store the new schema and state there", async () => {
    const run = await pipelineCmd("drop", "events", "--yes");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `About to drop the following data in dataset ${dataset} in destination postgres:`,
    );
    expect(run.stdout).toContain("Table(s) to drop: ['events']");
    expect(run.stdout).toContain(`Dropped table(s) ['events'] in dataset ${dataset}`);
    expect(run.stdout).toMatch(
      /Schema crm \(version \d+\) and state \(version \d+\) stored in the destination/,
    );
    const after = await probe();
    expect(after.tables).toEqual([
      "_dlt_loads",
      "_dlt_pipeline_state",
      "_dlt_version",
      "users",
      "users__tags",
    ]);
    expect(after.storedSchemaTables).not.toContain("events");
    expect(after.storedSchemaTables).toContain("users__tags");
    const info = await pipelineCmd("info");
    expect(info.stdout).toContain("  users: 3 row(s)\n  users__tags: 3 row(s)\n");
    expect(info.stdout).not.toContain("events:");
  });

  it("sync should restore the working folder from Postgres, also with no local pipeline", async () => {
    const run = await pipelineCmd("sync", "--yes");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Dropping local state\nRestoring from destination\n");
    expect(run.stdout).toMatch(/Restored state version \d+ and schema\(s\) crm of dataset CliData_/);
    const schemaFile = join(pipelinesDir, name, "schemas", "crm.schema.json");
    const tables = Object.keys((JSON.parse(readFileSync(schemaFile, "utf8")) as { tables: object }).tables);
    expect(tables).toContain("users__tags");
    expect(tables).not.toContain("events");

    // a fresh machine: no working folder at all, the destination named on the command line
    rmSync(pipelinesDir, { recursive: true, force: true });
    const fresh = await pipelineCmd("sync", "--yes", "--destination", "postgres", "--dataset-name", dataset);
    expect(fresh.stderr).toBe("");
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/Restored state version \d+ and schema\(s\) crm of dataset /);
    const info = await pipelineCmd("info");
    expect(info.stdout).toContain("destination_type: dlt.destinations.postgres");
    expect(info.stdout).toMatch(/users with 2 table\(s\)/);
  });
});
