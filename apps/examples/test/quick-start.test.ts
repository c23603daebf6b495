import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const script = resolve(import.meta.dirname, "../dist/quick-start.js");

/** Runs the built quick start like a user would: `node quick-start.js` in a fresh folder. */
function runQuickStart(cwd: string, dataDir: string): string[] {
  const result = spawnSync(process.execPath, [script], {
    cwd,
    env: { ...process.env, DLT_DATA_DIR: dataDir, DLT_LOCAL_DIR: "" },
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout.trimEnd().split("\n");
}

async function queryFile(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe("quick start example", () => {
  let cwd: string;
  let dataDir: string;

  beforeEach(() => {
    const root = mkdtempSync(join(tmpdir(), "tsdlt-quick-start-"));
    cwd = join(root, "project");
    dataDir = join(root, "dlt-data");
    spawnSync("mkdir", ["-p", cwd]);
  });

  afterEach(() => {
    rmSync(join(cwd, ".."), { recursive: true, force: true });
  });

  it("should print dlt's four LoadInfo lines and create quick_start.duckdb in the current folder", async () => {
    const lines = runQuickStart(cwd, dataDir);
    const dbFile = join(cwd, "quick_start.duckdb");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /^Pipeline quick_start load step completed in \d+\.\d\d seconds$|^Pipeline quick_start load step completed in 1 second$/,
    );
    expect(lines[1]).toBe("1 load package(s) were loaded to destination duckdb and into dataset mydata");
    expect(lines[2]).toBe(`The duckdb destination used duckdb:///${dbFile} location to store data`);
    expect(lines[3]).toMatch(/^Load package \d+\.\d+ is LOADED and contains no failed jobs$/);
    expect(existsSync(dbFile)).toBe(true);

    const columns = await queryFile(
      dbFile,
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'mydata' ORDER BY table_name, ordinal_position",
    );
    const byTable = (t: string) =>
      columns.filter((c) => c.table_name === t).map((c) => [c.column_name, c.data_type]);
    expect(byTable("users")).toEqual([
      ["id", "BIGINT"],
      ["name", "VARCHAR"],
      ["_dlt_load_id", "VARCHAR"],
      ["_dlt_id", "VARCHAR"],
    ]);
    expect(byTable("_dlt_loads")).toEqual([
      ["load_id", "VARCHAR"],
      ["schema_name", "VARCHAR"],
      ["status", "BIGINT"],
      ["inserted_at", "TIMESTAMP WITH TIME ZONE"],
      ["schema_version_hash", "VARCHAR"],
    ]);
    expect(byTable("_dlt_version").map(([n]) => n)).toEqual([
      "version",
      "engine_version",
      "inserted_at",
      "schema_name",
      "version_hash",
      "schema",
    ]);
    expect(byTable("_dlt_pipeline_state").map(([n]) => n)).toEqual([
      "version",
      "engine_version",
      "pipeline_name",
      "state",
      "created_at",
      "version_hash",
      "_dlt_load_id",
      "_dlt_id",
    ]);

    const users = await queryFile(
      dbFile,
      "SELECT id, name, _dlt_load_id, _dlt_id FROM mydata.users ORDER BY id",
    );
    expect(users.map((u) => [Number(u.id), u.name])).toEqual([
      [1, "Alice"],
      [2, "Bob"],
    ]);
    const loadId = lines[3]?.split(" ")[2];
    expect(users.every((u) => u._dlt_load_id === loadId)).toBe(true);
    expect(new Set(users.map((u) => u._dlt_id)).size).toBe(2);
    expect(users.every((u) => typeof u._dlt_id === "string" && (u._dlt_id as string).length === 14)).toBe(
      true,
    );

    const loads = await queryFile(dbFile, "SELECT load_id, schema_name, status FROM mydata._dlt_loads");
    expect(loads).toEqual([{ load_id: loadId, schema_name: "quick_start", status: 0n }]);
    const state = await queryFile(
      dbFile,
      "SELECT pipeline_name, version, _dlt_load_id FROM mydata._dlt_pipeline_state",
    );
    expect(state).toEqual([{ pipeline_name: "quick_start", version: 1n, _dlt_load_id: loadId }]);
  });

  it("should append on a second run: 4 rows and 2 completed loads, with the working folder of REFERENCE §6.1", async () => {
    const first = runQuickStart(cwd, dataDir);
    const second = runQuickStart(cwd, dataDir);
    const dbFile = join(cwd, "quick_start.duckdb");
    const [count] = await queryFile(dbFile, "SELECT count(*)::INTEGER AS n FROM mydata.users");
    expect(count?.n).toBe(4);
    const loads = await queryFile(dbFile, "SELECT load_id FROM mydata._dlt_loads ORDER BY load_id");
    const ids = [first[3]?.split(" ")[2], second[3]?.split(" ")[2]];
    expect(loads.map((l) => l.load_id)).toEqual(ids);

    const workingDir = join(dataDir, "pipelines", "quick_start");
    expect(existsSync(join(workingDir, "state.json"))).toBe(true);
    expect(existsSync(join(workingDir, "schemas", "quick_start.schema.json"))).toBe(true);
    expect(readdirSync(join(workingDir, "load", "loaded")).sort()).toEqual(ids);
    expect(readdirSync(join(workingDir, "normalize", "extracted"))).toEqual([]);
    const pkg = join(workingDir, "load", "loaded", ids[1] as string);
    for (const entry of [
      "completed_jobs",
      "new_jobs",
      "failed_jobs",
      "schema.json",
      "load_package_state.json",
      "package_completed.json",
    ]) {
      expect(existsSync(join(pkg, entry))).toBe(true);
    }
    expect(
      readdirSync(join(pkg, "completed_jobs")).some((f) => /^users\.[0-9a-f]{10}\.0\.jsonl$/.test(f)),
    ).toBe(true);
    const state = JSON.parse(readFileSync(join(workingDir, "state.json"), "utf8"));
    expect(state).toMatchObject({
      pipeline_name: "quick_start",
      dataset_name: "mydata",
      default_schema_name: "quick_start",
      schema_names: ["quick_start"],
      destination_type: "dlt.destinations.duckdb",
      _state_engine_version: 4,
    });
  });
});
