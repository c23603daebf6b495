/**
 * `dlt.destination()`, the custom sink (dlt's `@dlt.destination`), through the public pipeline API:
 * batching, the table schema handed over, nested tables, retries that resume after the last
 * delivered batch, terminal failures, and at-least-once delivery when a package is resumed after the
 * process stopped in the middle of a job.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger, TableSchema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;
const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-sink-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

type Item = Record<string, unknown>;

/** What a sink function received, call by call. */
interface Call {
  readonly table: string;
  readonly items: Item[];
  readonly schema: TableSchema;
}

function recorder(): { calls: Call[]; fn: dlt.SinkFunction } {
  const calls: Call[] = [];
  return {
    calls,
    fn: (items, table) => {
      calls.push({ table: table.name, items: structuredClone(items), schema: table });
    },
  };
}

function newPipeline(destination: dlt.Destination, pipelinesDir = join(root, "pipelines")): dlt.Pipeline {
  return dlt.pipeline({ pipelineName: "sink", pipelinesDir, destination, logger: silent });
}

const rows = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `n${i + 1}` }));
const ids = (calls: readonly Call[]): unknown[][] => calls.map((c) => c.items.map((item) => item.id));

describe("dlt.destination: batches", () => {
  it("should call the function with batches of 10 rows and the table schema, without dlt tables and columns", async () => {
    const { calls, fn } = recorder();
    const info = await newPipeline(dlt.destination(fn)).run(rows(25), { tableName: "items" });

    expect(info.hasFailedJobs).toBe(false);
    expect(calls.map((c) => [c.table, c.items.length])).toEqual([
      ["items", 10],
      ["items", 10],
      ["items", 5],
    ]);
    expect(calls[0]?.items[0]).toEqual({ id: 1, name: "n1" });
    expect(ids(calls).flat()).toEqual(rows(25).map((r) => r.id));
    const schema = calls[0]?.schema as TableSchema;
    expect(schema.name).toBe("items");
    expect(Object.keys(schema.columns)).toEqual(["id", "name"]);
    expect(schema.columns.id).toMatchObject({ name: "id", data_type: "bigint" });
  });

  it("should use batchSize and hand over values as normalize wrote them", async () => {
    const { calls, fn } = recorder();
    const data = rows(22).map((row) => ({
      ...row,
      at: new Date("2024-05-01T10:00:00.000Z"),
      big: 2n ** 60n,
    }));
    await newPipeline(dlt.destination(fn, { batchSize: 7 })).run(data, { tableName: "items" });

    expect(calls.map((c) => c.items.length)).toEqual([7, 7, 7, 1]);
    expect(calls[0]?.items[0]).toMatchObject({ at: "2024-05-01T10:00:00.000Z", big: 2n ** 60n });
    expect(calls[0]?.schema.columns.at?.data_type).toBe("timestamp");
  });

  it("should name the destination after its function unless named, and check its options", () => {
    async function my_api(): Promise<void> {}
    expect(dlt.destination(my_api).name).toBe("my_api");
    expect(dlt.destination(async () => {}).name).toBe("destination");
    expect(dlt.destination(my_api, { name: "crm" }).name).toBe("crm");
    expect(() => dlt.destination(my_api, { batchSize: 0 })).toThrow(/`batchSize` must be a positive integer/);
    expect(() => dlt.destination(my_api, { loaderFileFormat: "parquet" as "jsonl" })).toThrow(
      /`loaderFileFormat` "parquet" is not supported/,
    );
  });
});

describe("dlt.destination: nested data", () => {
  const orders = [
    { id: 1, lines: [{ sku: "a" }, { sku: "b" }] },
    { id: 2, lines: [{ sku: "c" }] },
  ];

  it("should keep nested lists in the root rows by default (maxTableNesting 0)", async () => {
    const { calls, fn } = recorder();
    await newPipeline(dlt.destination(fn)).run(orders, { tableName: "orders" });

    expect(calls.map((c) => c.table)).toEqual(["orders"]);
    expect(calls[0]?.items).toEqual([
      { id: 1, lines: [{ sku: "a" }, { sku: "b" }] },
      { id: 2, lines: [{ sku: "c" }] },
    ]);
    expect(calls[0]?.schema.columns.lines?.data_type).toBe("json");
  });

  it("should send nested tables with maxTableNesting, linked by the dlt columns when they are kept", async () => {
    const { calls, fn } = recorder();
    const sink = dlt.destination(fn, { maxTableNesting: 1, skipDltColumnsAndTables: false });
    await newPipeline(sink).run(orders, { tableName: "orders" });

    const byTable = (name: string): Call[] => calls.filter((c) => c.table === name);
    expect(calls.map((c) => c.table).sort()).toEqual(["_dlt_pipeline_state", "orders", "orders__lines"]);
    const [root] = byTable("orders");
    const [lines] = byTable("orders__lines");
    expect(lines?.schema.parent).toBe("orders");
    expect(lines?.items.map((l) => l.sku)).toEqual(["a", "b", "c"]);
    const parentOf = (sku: string): unknown => lines?.items.find((l) => l.sku === sku)?._dlt_parent_id;
    const idOf = (id: number): unknown => root?.items.find((r) => r.id === id)?._dlt_id;
    expect(parentOf("a")).toBe(idOf(1));
    expect(parentOf("c")).toBe(idOf(2));
  });
});

describe("dlt.destination: failures", () => {
  it("should retry a job whose function threw, resuming at the batch that failed", async () => {
    const { calls, fn } = recorder();
    let failures = 0;
    const sink = dlt.destination(
      async (items, table) => {
        if (items[0]?.id === 11 && failures++ === 0) throw new Error("HTTP 503");
        return fn(items, table);
      },
      { name: "api" },
    );
    const info = await newPipeline(sink).run(rows(25), { tableName: "items" });

    expect(info.hasFailedJobs).toBe(false);
    expect(failures).toBe(2);
    // the first batch went out once; the failed one was sent again; none was lost
    expect(ids(calls).map((batch) => batch[0])).toEqual([1, 11, 21]);
  });

  it("should keep the package pending when the retries are used up, and send the rest in the next run", async () => {
    const { calls, fn } = recorder();
    let down = true;
    const sink = dlt.destination(
      async (items, table) => {
        if (down && items[0]?.id === 11) throw new Error("HTTP 503");
        return fn(items, table);
      },
      { name: "api" },
    );
    process.env.LOAD__RAISE_ON_MAX_RETRIES = "2";
    try {
      const pipeline = newPipeline(sink);
      const error = await pipeline.run(rows(25), { tableName: "items" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(dlt.PipelineStepFailed);
      expect(dlt.isTsdltError((error as Error).cause, "LOAD_JOB_RETRY")).toBe(true);
      expect((error as Error).message).toMatch(/failed transiently 2 time\(s\) in this run: .*HTTP 503/);
      expect((error as Error).message).toContain("stays pending");
      expect(pipeline.hasPendingData).toBe(true);
      expect(ids(calls).map((batch) => batch[0])).toEqual([1]);

      // the receiver is back: the next run finishes the package from the failed batch on
      down = false;
      const info = await pipeline.run();
      expect(info.hasFailedJobs).toBe(false);
      expect(pipeline.hasPendingData).toBe(false);
      expect(ids(calls).map((batch) => batch[0])).toEqual([1, 11, 21]);
    } finally {
      delete process.env.LOAD__RAISE_ON_MAX_RETRIES;
    }
  });

  it("should abort the package when the function throws a terminal error, without sending it again", async () => {
    let attempts = 0;
    const sink = dlt.destination(async () => {
      attempts++;
      throw new dlt.DestinationError("422: the receiver refuses these rows", { retryable: false });
    });
    const pipeline = newPipeline(sink);
    const error = await pipeline.run(rows(3), { tableName: "items" }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(dlt.PipelineStepFailed);
    expect((error as Error).message).toMatch(
      /Job `items\.\w+\.0\.jsonl` in load `[\d.]+` failed terminally: the sink function threw on rows 1–3 of table `items`: 422: the receiver refuses these rows/,
    );
    expect(attempts).toBe(1);
    expect(pipeline.hasPendingData).toBe(false);
  });
});

describe("dlt.destination: at-least-once delivery", () => {
  it("should record delivered batches in the package, and re-send only the batch in flight when a stopped load resumes", async () => {
    const first = recorder();
    let stopped!: () => void;
    let reached!: () => void;
    const inFlight = new Promise<void>((resolve) => (reached = resolve));
    const sink = dlt.destination(async (items, table) => {
      if (items[0]?.id === 11) {
        // the process "dies" while this batch is being sent
        reached();
        await new Promise<void>((resolve) => (stopped = resolve));
      }
      first.fn(items, table);
    });
    const running = newPipeline(sink).run(rows(25), { tableName: "items" });
    await inFlight;

    // what a killed process leaves on disk: the working folder as it is now
    const resumedDir = join(root, "resumed");
    cpSync(join(root, "pipelines", "sink"), join(resumedDir, "sink"), { recursive: true });
    stopped();
    await running;
    expect(ids(first.calls).map((b) => b[0])).toEqual([1, 11, 21]);

    const second = recorder();
    const pipeline = newPipeline(dlt.destination(second.fn), resumedDir);
    const [loadId] = pipeline.listPendingPackages().normalized;
    expect(loadId).toBeDefined();
    const packageDir = join(resumedDir, "sink", "load", "normalized", loadId as string);
    const progress = JSON.parse(readFileSync(join(packageDir, "load_package_state.json"), "utf8")) as {
      destination_state?: Record<string, unknown>;
    };
    const [job] = readdirSync(join(packageDir, "started_jobs"));
    const [table, fileId] = (job as string).split(".");
    expect(progress.destination_state).toEqual({ [`${table}.${fileId}`]: 10 });

    const info = await pipeline.run();
    expect(info.loadPackages.map((p) => [p.loadId, p.state])).toEqual([[loadId, "loaded"]]);
    // rows 1–10 were delivered before the stop and are not sent again; 11–20 were in flight: sent again
    expect(ids(second.calls).map((b) => b[0])).toEqual([11, 21]);
    expect(pipeline.hasPendingData).toBe(false);
  });
});

describe("dlt.destination: declared config", () => {
  const saved = new Map<string, string | undefined>();
  const setEnv = (vars: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(vars)) {
      if (!saved.has(key)) saved.set(key, process.env[key]);
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  let settingsDir: string;

  beforeEach(() => {
    settingsDir = join(root, "project", ".dlt");
    mkdirSync(settingsDir, { recursive: true });
    const cleared: Record<string, undefined> = {};
    for (const key of Object.keys(process.env)) {
      if (key.includes("__") || key.startsWith("DLT_")) cleared[key] = undefined;
    }
    setEnv({ ...cleared, DLT_PROJECT_DIR: join(root, "project"), DLT_DATA_DIR: join(root, "global") });
  });
  afterEach(() => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    saved.clear();
  });

  const spec = dlt.z.object({
    apiUrl: dlt.z.string(),
    apiKey: dlt.secret(dlt.z.string()),
    timeoutS: dlt.z.number().default(30),
  });

  function configuredSink(received: unknown[], configValues?: { apiUrl?: string }): dlt.SinkDestination {
    return dlt.destination(
      (items, _table, config) => {
        received.push({ ...config, rows: items.length });
      },
      { name: "my_api", config: spec, configValues },
    );
  }

  it("should resolve destination.<name> keys when loading, pipeline-prefixed first, with values in code winning", async () => {
    writeFileSync(join(settingsDir, "config.toml"), '[destination.my_api]\napi_url = "https://from-toml"\n');
    setEnv({
      DESTINATION__API_KEY: "key-unprefixed",
      SINK__DESTINATION__MY_API__API_KEY: "key-for-sink-pipeline",
    });
    const received: unknown[] = [];
    const sink = configuredSink(received);
    expect(sink.config?.sections).toEqual(["destination", "my_api"]);
    // Nothing is resolved before the pipeline loads.
    expect(received).toEqual([]);
    const info = await newPipeline(sink).run(rows(3), { tableName: "items" });
    expect(info.hasFailedJobs).toBe(false);
    expect(received).toEqual([
      { apiUrl: "https://from-toml", apiKey: "key-for-sink-pipeline", timeoutS: 30, rows: 3 },
    ]);
    expect(String(info)).not.toContain("key-for-sink-pipeline");

    received.length = 0;
    await newPipeline(configuredSink(received, { apiUrl: "https://in-code" })).run(rows(1), {
      tableName: "items",
    });
    expect(received).toEqual([
      { apiUrl: "https://in-code", apiKey: "key-for-sink-pipeline", timeoutS: 30, rows: 1 },
    ]);
  });

  it("should fail the load with every key tried when a required value is missing", async () => {
    const received: unknown[] = [];
    const pipeline = newPipeline(configuredSink(received, { apiUrl: "https://in-code" }));
    const error = await pipeline.run(rows(2), { tableName: "items" }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain("Missing 1 field(s) in configuration `my_api`: `apiKey`");
    expect(error?.message).toContain("(Environment Variables, SINK__DESTINATION__MY_API__API_KEY)");
    expect(error?.message).toContain("(Environment Variables, DESTINATION__MY_API__API_KEY)");
    expect(error?.message).toContain(
      `set the environment variable \`DESTINATION__MY_API__API_KEY\`, or add \`api_key = ...\` under \`[destination.my_api]\` in ${settingsDir}/secrets.toml`,
    );
    expect(received).toEqual([]);
    expect(() => dlt.destination(async () => {}, { configValues: {} } as dlt.SinkDestinationOptions)).toThrow(
      /`configValues` needs a `config` spec/,
    );
  });
});
