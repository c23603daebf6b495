import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import type { Collector, CollectorUpdate } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-ops-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function newPipeline(name: string, extra: dlt.PipelineOptions = {}): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
    datasetName: "d",
    ...extra,
  });
}

class RecordingCollector implements Collector {
  readonly calls: (["start", string] | ["update", string, CollectorUpdate] | ["stop"])[] = [];
  start(step: string): void {
    this.calls.push(["start", step]);
  }
  update(name: string, update: CollectorUpdate = {}): void {
    this.calls.push(["update", name, update]);
  }
  stop(): void {
    this.calls.push(["stop"]);
  }
}

describe("progress", () => {
  it("should report each step and its counters to a collector", async () => {
    const collector = new RecordingCollector();
    const p = newPipeline("progress", { progress: collector });
    const info = await p.run([{ id: 1, tags: ["a", "b"] }, { id: 2 }], { tableName: "items" });
    const loadId = info.loadsIds[0];
    const starts = collector.calls.filter((c) => c[0] === "start").map((c) => c[1]);
    expect(starts).toEqual([
      "Extract progress",
      `Normalize progress in ${loadId}`,
      `Load progress in ${loadId}`,
    ]);
    expect(collector.calls).toContainEqual(["update", "items", { inc: 2 }]);
    expect(collector.calls).toContainEqual(["update", "items__tags", { inc: 2 }]);
    expect(collector.calls).toContainEqual(["update", "Resources", { inc: 1, total: 1 }]);
    expect(collector.calls.some((c) => c[0] === "update" && c[1] === "Jobs")).toBe(true);
    expect(collector.calls.filter((c) => c[0] === "stop")).toHaveLength(3);
  });

  it("should print dlt's log blocks with the log collector", async () => {
    let out = "";
    const p = newPipeline("log_progress", {
      progress: new dlt.LogCollector({ write: (t) => (out += t), logPeriod: 60 }),
    });
    await p.run([{ id: 1 }, { id: 2 }, { id: 3 }], { tableName: "items" });
    expect(out).toMatch(/^-{20,} Extract log_progress -{20,}$/m);
    expect(out).toMatch(/^Resources: 1\/1 \(100\.0%\) \| Time: \d+\.\d\ds \| Rate: \d+\.\d\d\/s$/m);
    expect(out).toMatch(/^items: 3 \| Time: /m);
    expect(out).toMatch(/^Memory usage: \d+\.\d\d MB \(\d+\.\d\d%\) \| CPU usage: \d+\.\d\d%$/m);
    const header = out.split("\n")[0] as string;
    expect(header).toHaveLength(80);
  });

  it("should draw live bars on a terminal and fall back to log lines elsewhere", () => {
    const tty = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    }) as unknown as NodeJS.WriteStream;
    let drawn = "";
    (tty as unknown as PassThrough).on("data", (chunk: Buffer) => (drawn += chunk.toString()));
    const bar = dlt.createCollector("tqdm", tty);
    expect(bar).toBeInstanceOf(dlt.BarCollector);
    bar.start("Extract demo");
    bar.update("items", { inc: 5, total: 10 });
    bar.stop();
    expect(drawn).toMatch(/Extract demo: items/);
    expect(drawn).toMatch(/5\/10/);

    const pipe = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    expect(dlt.createCollector("bar", pipe)).toBeInstanceOf(dlt.LogCollector);
    expect(() => dlt.createCollector("fancy" as dlt.ProgressOption)).toThrow(/Unknown progress "fancy"/);
  });
});

describe("trace", () => {
  it("should record every step with its info, persist it and print dlt's summary", async () => {
    const p = newPipeline("traced");
    await p.run([{ id: 1 }], { tableName: "items" });
    const trace = p.lastTrace as dlt.PipelineTrace;
    expect(trace.steps.map((s) => s.step)).toEqual(["extract", "normalize", "load"]);
    expect(trace.lastNormalizeInfo?.row_counts).toMatchObject({ items: 1, _dlt_pipeline_state: 1 });
    const text = String(trace);
    expect(text).toMatch(/^Run started at \S+ and COMPLETED in [\d.]+ seconds? with 3 steps\.$/m);
    expect(text).toMatch(/^Step load COMPLETED in .*\.\nPipeline traced load step completed in /m);

    const reread = dlt.attachSync({
      pipelineName: "traced",
      pipelinesDir: join(root, "pipelines"),
    }).lastTrace;
    expect(reread?.transactionId).toBe(trace.transactionId);
    expect(reread?.lastLoadInfo?.loads_ids).toEqual(trace.lastLoadInfo?.loads_ids);
  });

  it("should record a failed step with its exception", async () => {
    const p = newPipeline("trace_fail");
    await expect(p.run([{ f: () => 1 }], { tableName: "bad" })).rejects.toThrow(/is a function/);
    const trace = p.lastTrace as dlt.PipelineTrace;
    expect(trace.failed).toBe(true);
    expect(trace.steps).toEqual([
      expect.objectContaining({
        step: "extract",
        exception: expect.stringMatching(/field `f` is a function/),
      }),
    ]);
    expect(String(trace)).toMatch(
      /FAILED in .* with 1 steps\.\nStep extract FAILED in .*\.\nFailed due to: /,
    );
  });
});

describe("pending packages", () => {
  it("should list, describe and drop pending packages", async () => {
    const p = newPipeline("pending");
    const extracted = await p.extract([{ id: 1 }], { tableName: "items" });
    const [loadId] = extracted.loadsIds;
    expect(p.getLoadPackageInfo(loadId as string)).toMatchObject({ loadId, state: "extracted" });
    await p.normalize();
    const info = p.getLoadPackageInfo(loadId as string);
    expect(info?.state).toBe("normalized");
    expect(info?.jobs.map((j) => j.tableName).sort()).toEqual(["_dlt_pipeline_state", "items"]);
    await p.extract([{ id: 2 }], { tableName: "items" });
    const dropped = await p.dropPendingPackages();
    expect(dropped).toHaveLength(2);
    expect(p.listPendingPackages()).toEqual({ extracted: [], normalized: [] });
    expect(p.getLoadPackageInfo(loadId as string)).toBeUndefined();
  });
});

describe("working folder lock", () => {
  it("should refuse a second process running the same pipeline, then run once it finished", async () => {
    const pipelinesDir = join(root, "pipelines");
    const db = join(root, "locked.duckdb");
    const gate = join(root, "gate");
    const script = join(root, "slow.mjs");
    const entry = resolve(import.meta.dirname, "../dist/index.js");
    writeFileSync(
      script,
      `import * as dlt from ${JSON.stringify(entry)};
import { existsSync } from "node:fs";
const p = dlt.pipeline({ pipelineName: "locked", pipelinesDir: ${JSON.stringify(pipelinesDir)}, destination: dlt.destinations.duckdb({ credentials: ${JSON.stringify(db)} }), datasetName: "d" });
async function* slow() { yield { id: 1 }; while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 20)); yield { id: 2 }; }
await p.run(slow, { tableName: "items" });
`,
    );
    const child = spawn(process.execPath, [script], { stdio: "pipe" });
    let childErr = "";
    child.stderr.on("data", (c: Buffer) => (childErr += c.toString()));
    const lockDir = `${join(pipelinesDir, "locked")}.lock`;
    for (let i = 0; i < 500 && !existsSync(lockDir); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(lockDir)).toBe(true);

    const second = dlt.pipeline({
      pipelineName: "locked",
      pipelinesDir,
      destination: dlt.destinations.duckdb({ credentials: join(root, "other.duckdb") }),
      datasetName: "d",
    });
    const error = await second.run([{ id: 3 }], { tableName: "items" }).catch((e: unknown) => e);
    expect(dlt.isTsdltError(error, "PIPELINE_LOCKED")).toBe(true);
    expect((error as Error).message).toMatch(/Pipeline `locked` is being run by another process/);

    writeFileSync(gate, "");
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(childErr).toBe("");
    expect(code).toBe(0);
    expect(existsSync(lockDir)).toBe(false);
    const third = dlt.pipeline({
      pipelineName: "locked",
      pipelinesDir,
      destination: dlt.destinations.duckdb({ credentials: db }),
      datasetName: "d",
    });
    await third.run([{ id: 3 }], { tableName: "items" });
    expect(await third.query("SELECT count(*)::INT AS n FROM d.items")).toEqual([{ n: 3 }]);
    expect(readFileSync(join(pipelinesDir, "locked", "state.json"), "utf8")).toContain(
      '"pipeline_name": "locked"',
    );
  });
});

describe("sync with the destination", () => {
  it("should restore state and schema from the destination into a fresh working folder", async () => {
    const first = newPipeline("restore");
    await first.run([{ id: 1, name: "a", meta: { kind: "x" } }], { tableName: "items" });
    const stateBefore = first.state;
    const schemaBefore = first.defaultSchema;
    rmSync(first.workingDir, { recursive: true, force: true });

    const fresh = newPipeline("restore");
    expect(fresh.state._state_version).toBe(0);
    await fresh.syncDestination();
    expect(fresh.state._version_hash).toBe(stateBefore._version_hash);
    expect(fresh.state._state_version).toBe(stateBefore._state_version);
    expect(fresh.state.dataset_name).toBe("d");
    expect(fresh.defaultSchema.versionHash).toBe(schemaBefore.versionHash);
    expect(Object.keys(fresh.defaultSchema.getTableColumns("items"))).toEqual([
      "id",
      "name",
      "meta__kind",
      "_dlt_load_id",
      "_dlt_id",
    ]);

    // the restored state is not written again: the next load adds no state row
    await fresh.run([{ id: 2, name: "b" }], { tableName: "items" });
    expect(await fresh.query("SELECT count(*)::INT AS n FROM d._dlt_pipeline_state")).toEqual([{ n: 1 }]);
    expect(await fresh.query("SELECT count(*)::INT AS n FROM d.items")).toEqual([{ n: 2 }]);
  });

  it("should start over when the dataset was dropped", async () => {
    const p = newPipeline("dropped");
    await p.run([{ id: 1 }], { tableName: "items" });
    await p.query("DROP SCHEMA d CASCADE");
    const again = newPipeline("dropped");
    await again.run([{ id: 2 }], { tableName: "items" });
    expect(await again.query("SELECT count(*)::INT AS n FROM d._dlt_pipeline_state")).toEqual([{ n: 1 }]);
    expect(await again.query("SELECT id FROM d.items")).toEqual([{ id: 2n }]);
  });
});

describe("a crash between committing a package and writing state.json", () => {
  // regression (issue 6, found by crash.test.ts): the re-run re-extracted what the pending package held
  it("should continue from the state stored in the pending package", async () => {
    const rows = () =>
      dlt.resource(
        function* items(cursor = dlt.sources.incremental("id", { initialValue: 0 })) {
          for (let id = 1; id <= 5; id++) if (id > (cursor.lastValue as number)) yield { id };
        },
        { writeDisposition: "append" },
      );
    const p = newPipeline("state_window");
    await p.run([{ id: 0 }], { tableName: "other" });
    const before = readFileSync(join(p.workingDir, "state.json"), "utf8");
    await p.extract(rows());
    // the process died right after the package commit: state.json still holds the old state
    writeFileSync(join(p.workingDir, "state.json"), before);

    const again = newPipeline("state_window");
    await again.run(rows());
    expect(
      await again.query("SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids FROM d.items"),
    ).toEqual([{ n: 5, ids: 5 }]);
  });
});
