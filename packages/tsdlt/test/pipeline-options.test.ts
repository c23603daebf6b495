import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;
let warnings: string[];
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m) => warnings.push(m),
  error: () => {},
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-options-"));
  warnings = [];
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("pipeline() options", () => {
  it("should pass `credentials` to a destination given by name", async () => {
    const file = join(root, "by_name.duckdb");
    const p = dlt.pipeline({
      pipelineName: "by_name",
      pipelinesDir: root,
      destination: "duckdb",
      credentials: file,
      datasetName: "d",
    });
    const info = await p.run([{ x: 1 }], { tableName: "t" });
    expect(info.destinationDisplayableCredentials).toBe(`duckdb:///${file}`);
    expect(existsSync(file)).toBe(true);
  });

  it("should export the schema as YAML after each run and import it for a new pipeline", async () => {
    const exportDir = join(root, "export");
    const p = dlt.pipeline({
      pipelineName: "schema_io",
      pipelinesDir: join(root, "pipelines"),
      destination: dlt.destinations.duckdb({ credentials: join(root, "schema_io.duckdb") }),
      exportSchemaPath: exportDir,
    });
    await p.run([{ id: 1, createdAt: "2024-01-01T00:00:00Z" }], { tableName: "events" });
    const yaml = readFileSync(join(exportDir, "schema_io.schema.yaml"), "utf8");
    expect(yaml).toMatch(/^version: \d+\nversion_hash: /);
    expect(yaml).toContain("events:");
    expect(yaml).toMatch(/created_at:\n\s+data_type: timestamp/);

    // a user edits the exported schema: `note` is declared as text before any data arrives
    const importDir = join(root, "import");
    mkdirSync(importDir);
    writeFileSync(
      join(importDir, "schema_import.schema.yaml"),
      yaml
        .replace(/name: schema_io/, "name: schema_import")
        .replace("events:\n    columns:\n", "events:\n    columns:\n      note:\n        data_type: text\n"),
    );
    const q = dlt.pipeline({
      pipelineName: "schema_import",
      pipelinesDir: join(root, "pipelines"),
      destination: dlt.destinations.duckdb({ credentials: join(root, "schema_import.duckdb") }),
      importSchemaPath: importDir,
    });
    await q.run([{ id: 2, createdAt: "2024-01-02T00:00:00Z", note: 5 }], { tableName: "events" });
    const columns = await q.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'schema_import_dataset' AND table_name = 'events' ORDER BY ordinal_position",
    );
    expect(columns).toContainEqual({ column_name: "note", data_type: "VARCHAR" });
    expect(await q.query("SELECT note FROM schema_import_dataset.events")).toEqual([{ note: "5" }]);
  });

  it("should treat fullRefresh as the deprecated alias of devMode and warn", () => {
    const p = dlt.pipeline({
      pipelineName: "legacy",
      pipelinesDir: root,
      fullRefresh: true,
      datasetName: "d",
      logger,
    });
    expect(p.devMode).toBe(true);
    expect(warnings.some((w) => w.includes("`fullRefresh` option is deprecated; use `devMode`"))).toBe(true);
  });

  it("should reject an unknown refresh mode, naming it and the known modes", async () => {
    expect(() =>
      dlt.pipeline({
        pipelineName: "refresh",
        pipelinesDir: root,
        refresh: "drop_everything" as dlt.RefreshMode,
      }),
    ).toThrow(/`refresh` \(given in code\)[\s\S]*drop_sources/);
    const p = dlt.pipeline({
      pipelineName: "refresh",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials: join(root, "refresh.duckdb") }),
    });
    await expect(
      p.run([{ a: 1 }], { tableName: "t", refresh: "drop_all" as dlt.RefreshMode }),
    ).rejects.toThrow(
      /`refresh` must be one of `drop_sources`, `drop_resources`, `drop_data`; got "drop_all"/,
    );
  });

  it("should name the default pipeline after the running script", () => {
    const p = dlt.pipeline({ pipelinesDir: root });
    expect(p.pipelineName).toMatch(/^dlt_[A-Za-z0-9_-]+$/);
  });
});

describe("dlt.run() and dlt.attach()", () => {
  it("should run data through a pipeline configured in one call", async () => {
    const info = await dlt.run([{ id: 1 }], {
      pipelineName: "one_call",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials: join(root, "one_call.duckdb") }),
      tableName: "items",
    });
    expect(String(info)).toMatch(/^Pipeline one_call load step completed in /);
    expect(info.datasetName).toBe("one_call_dataset");
  });

  it("should take the run's hints in the same call: merge keys and a schema contract", async () => {
    const options = {
      pipelineName: "one_call_hints",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials: join(root, "one_call_hints.duckdb") }),
      datasetName: "h",
      tableName: "events",
      writeDisposition: "merge" as const,
      primaryKey: "id",
      mergeKey: "day",
    };
    await dlt.run(
      [
        { id: 1, day: "mon", v: "a" },
        { id: 2, day: "tue", v: "b" },
      ],
      options,
    );
    // the merge key replaces every stored row of "mon"; the primary key keeps one row per id
    await dlt.run([{ id: 3, day: "mon", v: "c" }], options);
    const p = dlt.attachSync({
      pipelineName: "one_call_hints",
      pipelinesDir: root,
      destination: options.destination,
    });
    expect(await p.query("SELECT id, day, v FROM h.events ORDER BY id")).toEqual([
      { id: 2n, day: "tue", v: "b" },
      { id: 3n, day: "mon", v: "c" },
    ]);
    expect(p.defaultSchema.getTable("events")?.columns.day?.merge_key).toBe(true);
    const frozen = await dlt
      .run([{ id: 4, day: "wed", v: "d", extra: 1 }], { ...options, schemaContract: "freeze" })
      .catch((e: unknown) => e);
    expect(frozen).toBeInstanceOf(Error);
    expect((frozen as Error).message).toMatch(/extra/);
  });

  it("should attach to an existing working folder and keep its dataset and destination", async () => {
    const credentials = join(root, "attached.duckdb");
    const p = dlt.pipeline({
      pipelineName: "attached",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials }),
      datasetName: "kept",
    });
    await p.run([{ id: 1 }], { tableName: "items" });
    const again = await dlt.attach({
      pipelineName: "attached",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials }),
    });
    expect(again.datasetName).toBe("kept");
    expect(again.state.destination_type).toBe("dlt.destinations.duckdb");
    await again.run([{ id: 2 }], { tableName: "items" });
    expect(await again.query("SELECT count(*)::INT AS n FROM kept.items")).toEqual([{ n: 2 }]);
    expect(() => dlt.attachSync({ pipelineName: "missing", pipelinesDir: root })).toThrow(
      /Cannot attach to pipeline `missing`/,
    );
  });
});

describe("pending packages", () => {
  it("should finish packages left by an interrupted run before loading new data", async () => {
    const options = {
      pipelineName: "resume",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials: join(root, "resume.duckdb") }),
      datasetName: "r",
    };
    const interrupted = dlt.pipeline(options);
    await interrupted.extract([{ id: 1 }], { tableName: "items" });
    await interrupted.extract([{ id: 2 }], { tableName: "items" });
    await interrupted.normalize();
    await interrupted.extract([{ id: 3 }], { tableName: "items" });
    const pending = interrupted.listPendingPackages();
    expect(pending.normalized).toHaveLength(2);
    expect(pending.extracted).toHaveLength(1);

    // a new process: same pipeline, new data
    const next = dlt.pipeline(options);
    const info = await next.run([{ id: 4 }], { tableName: "items" });
    expect(info.loadPackages).toHaveLength(4);
    expect(info.loadPackages.every((p) => p.state === "loaded")).toBe(true);
    expect(String(info).split("\n")[1]).toBe(
      "4 load package(s) were loaded to destination duckdb and into dataset r",
    );
    expect(next.listPendingPackages()).toEqual({ extracted: [], normalized: [] });
    const rows = await next.query(
      "SELECT i.id, l.load_id IS NOT NULL AS complete FROM r.items i LEFT JOIN r._dlt_loads l ON l.load_id = i._dlt_load_id ORDER BY i.id",
    );
    expect(rows.map((r) => [Number(r.id), r.complete])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, true],
    ]);
  });
});

describe("pipeline settings from config", () => {
  const saved: Record<string, string | undefined> = {};
  const setEnv = (values: Record<string, string>) => {
    for (const [k, v] of Object.entries(values)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("should take the destination, dataset and pipelines folder from env and .dlt/config.toml", async () => {
    const project = join(root, "project");
    mkdirSync(join(project, ".dlt"), { recursive: true });
    writeFileSync(
      join(project, ".dlt", "config.toml"),
      '[pipelines.configured]\ndataset_name = "from_toml"\n\n[load]\nworkers = 2\n',
    );
    setEnv({
      DLT_PROJECT_DIR: project,
      DLT_LOCAL_DIR: project,
      PIPELINES__CONFIGURED__DESTINATION_TYPE: "duckdb",
      PIPELINES__CONFIGURED__PIPELINES_DIR: join(root, "from-env"),
    });
    const p = dlt.pipeline({ pipelineName: "configured" });
    expect(p.pipelinesDir).toBe(join(root, "from-env"));
    const info = await p.run([{ id: 1 }], { tableName: "items" });
    expect(info.datasetName).toBe("from_toml");
    expect(info.destinationDisplayableCredentials).toBe(`duckdb:///${join(project, "configured.duckdb")}`);
    // options in code still win
    const q = dlt.pipeline({
      pipelineName: "configured",
      datasetName: "from_code",
      pipelinesDir: join(root, "code"),
    });
    expect(q.datasetName).toBe("from_code");
    expect(q.pipelinesDir).toBe(join(root, "code"));
  });

  it("should rotate job files by size from [data_writer] file_max_bytes and still load every row", async () => {
    setEnv({ DATA_WRITER__FILE_MAX_BYTES: "4000", DATA_WRITER__BUFFER_MAX_ITEMS: "10" });
    const p = dlt.pipeline({
      pipelineName: "rotated",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials: join(root, "rotated.duckdb") }),
    });
    const extracted = await p.extract(
      Array.from({ length: 300 }, (_, i) => ({ id: i, text: "x".repeat(40) })),
      { tableName: "items" },
    );
    const extractedJobs = extracted.loadPackages[0]?.jobs.filter((j) => j.tableName === "items") ?? [];
    expect(extractedJobs.length).toBeGreaterThan(3);
    const normalized = await p.normalize();
    const normalizedJobs = normalized.loadPackages[0]?.jobs.filter((j) => j.tableName === "items") ?? [];
    expect(normalizedJobs.length).toBeGreaterThan(3);
    expect(normalizedJobs.every((j) => j.fileSize < 4000 + 200)).toBe(true);
    await p.load();
    expect(await p.query("SELECT count(*)::INT AS n FROM rotated_dataset.items")).toEqual([{ n: 300 }]);
  });

  it("should give new schemas the json normalizer of [schema] json_normalizer", async () => {
    setEnv({ SCHEMA__JSON_NORMALIZER: '{"module": "relational_no_coercion", "config": {"max_nesting": 0}}' });
    const p = dlt.pipeline({
      pipelineName: "strict_types",
      pipelinesDir: root,
      destination: dlt.destinations.duckdb({ credentials: join(root, "strict_types.duckdb") }),
    });
    await p.run(
      [
        { n: 1, doc: { a: 1 } },
        { n: "2", doc: { a: 2 } },
      ],
      { tableName: "items" },
    );
    expect(p.defaultSchema.normalizers.json).toEqual({
      module: "dlt.common.normalizers.json.relational_no_coercion",
      config: { max_nesting: 0 },
    });
    // no coercion of "2" into bigint; max_nesting 0 keeps `doc` a json column
    expect(
      await p.query("SELECT n, n__v_text, doc::VARCHAR AS doc FROM strict_types_dataset.items ORDER BY n"),
    ).toEqual([
      { n: 1n, n__v_text: null, doc: '{"a":1}' },
      { n: null, n__v_text: "2", doc: '{"a":2}' },
    ]);
  });

  it("should take DuckDB credentials from config when the destination is given by name", async () => {
    const file = join(root, "from-config.duckdb");
    setEnv({ DESTINATION__DUCKDB__CREDENTIALS: file });
    const p = dlt.pipeline({ pipelineName: "duck_config", pipelinesDir: root, destination: "duckdb" });
    const info = await p.run([{ id: 1 }], { tableName: "items" });
    expect(info.destinationDisplayableCredentials).toBe(`duckdb:///${file}`);
    expect(existsSync(file)).toBe(true);
  });

  it("should read [destination.<name>] replace_strategy from config and reject unknown strategies", async () => {
    const make = (name: string) =>
      dlt.pipeline({
        pipelineName: name,
        pipelinesDir: root,
        destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
      });
    setEnv({ DESTINATION__DUCKDB__REPLACE_STRATEGY: "insert-from-staging" });
    const ok = make("replace_cfg");
    await ok.run([{ id: 1 }, { id: 2 }], { tableName: "t", writeDisposition: "replace" });
    await ok.run([{ id: 3 }], { tableName: "t", writeDisposition: "replace" });
    expect(await ok.query("SELECT id::INT AS id FROM replace_cfg_dataset.t")).toEqual([{ id: 3 }]);

    setEnv({ DESTINATION__DUCKDB__REPLACE_STRATEGY: "swap" });
    const bad = make("replace_bad");
    await expect(bad.run([{ id: 1 }], { tableName: "t", writeDisposition: "replace" })).rejects.toThrow(
      /replace_strategy|replaceStrategy/,
    );
  });

  it("should re-export dlt.config and dlt.secrets for ad hoc reads", () => {
    setEnv({ SOURCES__GITHUB__REPO_NAME: "dlt-hub/dlt", SOURCES__GITHUB__ACCESS_TOKEN: "ghp_secret" });
    expect(dlt.config.get("sources.github.repo_name")).toBe("dlt-hub/dlt");
    expect(dlt.secrets.get("sources.github.access_token")).toBe("ghp_secret");
  });
});
