import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as dlt from "tsdlt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";

const bin = resolve(import.meta.dirname, "../dist/bin.js");
const version = (
  JSON.parse(readFileSync(resolve(import.meta.dirname, "../package.json"), "utf8")) as { version: string }
).version;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-cli-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("tsdlt binary", () => {
  it("should print its version and exit 0", () => {
    const result = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(`tsdlt ${version}`);
  });

  it("should exit 2 on a usage error", () => {
    const result = spawnSync(process.execPath, [bin, "no-such-command"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'no-such-command'/);
  });
});

describe("tsdlt pipeline <name> info", () => {
  it("should show the schema tables, pending and completed packages, the last load and the destination", async () => {
    const pipelinesDir = join(root, "pipelines");
    const p = dlt.pipeline({
      pipelineName: "cli_info",
      pipelinesDir,
      destination: dlt.destinations.duckdb({ credentials: join(root, "cli_info.duckdb") }),
      datasetName: "mydata",
    });
    const info = await p.run(
      [
        { id: 1, name: "Alice", tags: ["a"] },
        { id: 2, name: "Bob", tags: [] },
      ],
      { tableName: "users" },
    );
    const { code, out, err } = await cli(["pipeline", "cli_info", "info", "--pipelines-dir", pipelinesDir]);
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
    expect(out).toMatch(/ {2}users__tags: 1 row\(s\)/);
  });

  it("should fail with exit code 1 and a clear message for an unknown pipeline", async () => {
    const { code, err } = await cli(["pipeline", "nope", "info", "--pipelines-dir", root]);
    expect(code).toBe(1);
    expect(err).toMatch(/Cannot attach to pipeline `nope`: no state found/);
  });
});
