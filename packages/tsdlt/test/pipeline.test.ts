import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;

function newPipeline(name: string, extra: dlt.PipelineOptions = {}): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
    datasetName: "data",
    ...extra,
  });
}

async function catchError(promise: Promise<unknown>): Promise<dlt.PipelineStepFailed> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(dlt.PipelineStepFailed);
  return error as dlt.PipelineStepFailed;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-pipeline-"));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("pipeline()", () => {
  it("should default the dataset name to <pipeline_name>_dataset", async () => {
    const p = dlt.pipeline({
      pipelineName: "defaults",
      pipelinesDir: join(root, "pipelines"),
      destination: dlt.destinations.duckdb({ credentials: join(root, "defaults.duckdb") }),
    });
    const info = await p.run([{ a: 1 }], { tableName: "t" });
    expect(info.datasetName).toBe("defaults_dataset");
    const rows = await p.query('SELECT a FROM "defaults_dataset"."t"');
    expect(rows.map((r) => Number(r.a))).toEqual([1]);
  });

  it("should keep the working folder under DLT_DATA_DIR/pipelines when pipelinesDir is not given", () => {
    const previous = process.env.DLT_DATA_DIR;
    process.env.DLT_DATA_DIR = join(root, "data-dir");
    try {
      const p = dlt.pipeline({ pipelineName: "where_am_i", destination: "duckdb" });
      expect(p.workingDir).toBe(join(root, "data-dir", "pipelines", "where_am_i"));
      expect(existsSync(p.workingDir)).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.DLT_DATA_DIR;
      else process.env.DLT_DATA_DIR = previous;
    }
  });

  it("should reject unknown options and invalid pipeline names with clear errors", () => {
    expect(() =>
      dlt.pipeline({ pipelineName: "x", pipelinesDir: root, datasetname: "d" } as dlt.PipelineOptions),
    ).toThrow(/`pipeline` got an unexpected option `datasetname`/);
    expect(() => dlt.pipeline({ pipelineName: "my.pipeline", pipelinesDir: root })).toThrow(
      /Pipeline name "my.pipeline" is invalid/,
    );
  });

  it("should wipe the working folder and suffix the dataset in devMode", async () => {
    const first = newPipeline("dev");
    await first.run([{ a: 1 }], { tableName: "t" });
    expect(readdirSync(join(first.workingDir, "load", "loaded"))).toHaveLength(1);
    const dev = newPipeline("dev", { devMode: true });
    expect(existsSync(join(dev.workingDir, "load", "loaded"))).toBe(false);
    expect(dev.datasetName).toMatch(/^data_\d{14}$/);
  });

  it("should say which config key is missing for a staging destination given by name", async () => {
    const p = newPipeline("staged", { staging: "filesystem" });
    const error = await catchError(p.run([{ a: 1 }], { tableName: "t" }));
    expect(error.message).toMatch(
      /\[filesystem\] No bucket URL: pass `bucketUrl` to `filesystem\(\)` or set `DESTINATION__FILESYSTEM__BUCKET_URL`/,
    );
  });

  it("should say which package to install for a destination that is not installed", async () => {
    const p = dlt.pipeline({ pipelineName: "ch", pipelinesDir: root, destination: "clickhouse" });
    const error = await catchError(p.run([{ a: 1 }], { tableName: "t" }));
    expect(error.message).toMatch(
      /Destination `clickhouse` is not installed. Install it with `npm install @tsdlt\/destination-clickhouse`/,
    );
  });

  it("should require a table name for plain data", async () => {
    const p = newPipeline("no_table");
    const error = await catchError(p.run([{ a: 1 }]));
    expect(error.message).toMatch(/needs `tableName`/);
  });
});

describe("Pipeline.run() data forms", () => {
  it("should load sync generators, async generators, pages and generator functions", async () => {
    const p = newPipeline("forms");
    function* numbers() {
      yield { n: 1 };
      yield [{ n: 2 }, { n: 3 }];
    }
    async function* pages() {
      for (let page = 0; page < 3; page++) yield Array.from({ length: 10 }, (_, i) => ({ n: page * 10 + i }));
    }
    await p.run(numbers(), { tableName: "sync_gen" });
    await p.run(pages, { tableName: "async_pages" });
    await p.run(new Set([{ n: 7 }]).values(), { tableName: "iterator" });
    const counts = await p.query(
      "SELECT (SELECT count(*) FROM data.sync_gen)::INT AS a, (SELECT count(*) FROM data.async_pages)::INT AS b, (SELECT count(*) FROM data.iterator)::INT AS c",
    );
    expect(counts).toEqual([{ a: 3, b: 30, c: 1 }]);
  });

  it("should flatten nested objects and split lists into child tables", async () => {
    const p = newPipeline("nested");
    await p.run(
      [
        {
          id: 1,
          user: { firstName: "Ann", addr: { zip: "10115" } },
          tags: ["a", "b"],
          items: [{ sku: "x", qty: 2 }],
        },
      ],
      { tableName: "orders" },
    );
    const [order] = await p.query("SELECT id, user__first_name, user__addr__zip, _dlt_id FROM data.orders");
    expect(order).toMatchObject({ user__first_name: "Ann", user__addr__zip: "10115" });
    const tags = await p.query(
      "SELECT value, _dlt_parent_id, _dlt_list_idx FROM data.orders__tags ORDER BY _dlt_list_idx",
    );
    expect(tags.map((t) => [t.value, t._dlt_parent_id, Number(t._dlt_list_idx)])).toEqual([
      ["a", order?._dlt_id, 0],
      ["b", order?._dlt_id, 1],
    ]);
    const items = await p.query("SELECT sku, qty FROM data.orders__items");
    expect(items.map((i) => [i.sku, Number(i.qty)])).toEqual([["x", 2]]);
  });
});

describe("bad input", () => {
  const cyclic: Record<string, unknown> = { id: 3, name: "loop" };
  cyclic.self = { parent: cyclic };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["a function", { id: 1, profile: { callback: () => 1 } }, /field `profile\.callback` is a function/],
    ["a symbol", { id: 2, tag: Symbol("x") }, /field `tag` is a symbol/],
    ["a cyclic object", cyclic, /field `self\.parent` is a cyclic reference/],
  ];

  for (const [what, bad, message] of cases) {
    it(`should fail the extract step on ${what}, naming table and field path, and load nothing`, async () => {
      const p = newPipeline("bad_input");
      await p.run([{ id: 0, name: "ok" }], { tableName: "users" });
      const error = await catchError(p.run([{ id: 10, name: "fine" }, bad], { tableName: "users" }));
      expect(error.step).toBe("extract");
      expect(error.message).toMatch(/Pipeline execution failed at `step=extract`/);
      expect(error.message).toMatch(/table `users`/);
      expect(error.message).toMatch(message);
      expect(error.exception.code).toBe("EXTRACT_INVALID_DATA");
      expect(error.exception.table).toBe("users");
      expect(p.listPendingPackages()).toEqual({ extracted: [], normalized: [] });

      const loads = await p.query("SELECT count(*)::INT AS n FROM data._dlt_loads");
      expect(loads).toEqual([{ n: 1 }]);
      const users = await p.query("SELECT id FROM data.users ORDER BY id");
      expect(users.map((u) => Number(u.id))).toEqual([0]);

      const info = await p.run([{ id: 11, name: "good" }], { tableName: "users" });
      expect(info.hasFailedJobs).toBe(false);
      const after = await p.query("SELECT id FROM data.users ORDER BY id");
      expect(after.map((u) => Number(u.id))).toEqual([0, 11]);
      expect(await p.query("SELECT count(*)::INT AS n FROM data._dlt_loads")).toEqual([{ n: 2 }]);
    });
  }
});

describe("destination resolution by name", () => {
  it("should find a destination package installed in the user's project, not only next to tsdlt", async () => {
    const { mkdirSync, symlinkSync, writeFileSync } = await import("node:fs");
    const { spawnSync } = await import("node:child_process");
    const { resolve } = await import("node:path");
    const project = join(root, "project");
    mkdirSync(join(project, "node_modules", "@tsdlt"), { recursive: true });
    symlinkSync(
      resolve(import.meta.dirname, "../../destination-filesystem"),
      join(project, "node_modules", "@tsdlt", "destination-filesystem"),
    );
    writeFileSync(join(project, "package.json"), '{ "name": "user-project", "type": "module" }');
    const entry = resolve(import.meta.dirname, "../dist/index.js");
    const result = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const dlt = await import(${JSON.stringify(entry)}); const d = await dlt.resolveDestination("filesystem"); console.log(d.destinationType);`,
      ],
      { cwd: project, encoding: "utf8" },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("dlt.destinations.filesystem");
  });
});
