/**
 * `dlt.attach()` (REFERENCE §1.3) on real DuckDB files: with no local working folder it restores the
 * state and schemas from the destination's dataset so the incremental continues; it fails clearly —
 * and leaves no folder behind — when there is no destination or the dataset holds no state.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

let root: string;
let pipelinesDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-attach-"));
  pipelinesDir = join(root, "pipelines");
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const duckdb = (): dlt.Destination => dlt.destinations.duckdb({ credentials: join(root, "attach.duckdb") });

/** Numbers 1..n, incremental on `id`; `starts` records where each run started. */
function numbers(n: number, starts: unknown[]): dlt.DltResource {
  return dlt.resource(
    function* numbers(id = dlt.sources.incremental<number>("id", { initialValue: 0 })) {
      starts.push(id.lastValue);
      for (let i = 1; i <= n; i++) if (i > (id.lastValue ?? 0)) yield { id: i, tags: [`t${i}`] };
    },
    { name: "numbers" },
  );
}

describe("dlt.attach()", () => {
  it("should restore state and schemas from the destination when the working folder is gone", async () => {
    const starts: unknown[] = [];
    const first = dlt.pipeline({
      pipelineName: "numbers",
      pipelinesDir,
      destination: duckdb(),
      datasetName: "nums",
    });
    await first.run(numbers(3, starts));
    const state = first.state;
    rmSync(first.workingDir, { recursive: true, force: true });

    const p = await dlt.attach({
      pipelineName: "numbers",
      pipelinesDir,
      destination: duckdb(),
      datasetName: "nums",
    });
    expect(existsSync(join(p.workingDir, "state.json"))).toBe(true);
    expect(p.state.sources).toEqual(state.sources);
    expect(p.state._state_version).toBe(state._state_version);
    expect(p.state.dataset_name).toBe("nums");
    expect(
      p.defaultSchema
        .dataTables(true)
        .map((t) => t.name)
        .sort(),
    ).toEqual(["numbers", "numbers__tags"]);

    // the cursor continues: only 4 and 5 are extracted and loaded
    await p.run(numbers(5, starts));
    expect(starts).toEqual([0, 3]);
    expect(await p.query("SELECT count(*)::INT AS n, max(id)::INT AS top FROM nums.numbers")).toEqual([
      { n: 5, top: 5 },
    ]);
  });

  it("should look in `<pipelineName>_dataset` when no dataset is given", async () => {
    const first = dlt.pipeline({ pipelineName: "defaults", pipelinesDir, destination: duckdb() });
    await first.run([{ id: 1 }], { tableName: "items" });
    rmSync(first.workingDir, { recursive: true, force: true });
    const p = await dlt.attach({ pipelineName: "defaults", pipelinesDir, destination: duckdb() });
    expect(p.datasetName).toBe("defaults_dataset");
    expect(p.state.schema_names).toEqual(["defaults"]);
    expect(p.defaultSchema.getTable("items")).toBeDefined();
  });

  it("should use the working folder when it exists, without reading the destination", async () => {
    const first = dlt.pipeline({
      pipelineName: "local",
      pipelinesDir,
      destination: duckdb(),
      datasetName: "d",
    });
    await first.run([{ id: 1 }], { tableName: "items" });
    rmSync(join(root, "attach.duckdb")); // a destination that would fail to restore anything
    const p = await dlt.attach({ pipelineName: "local", pipelinesDir });
    expect(p.state._version_hash).toBe(first.state._version_hash);
    expect(p.state.destination_type).toBe("dlt.destinations.duckdb");
  });

  it("should fail clearly without a destination and leave no working folder", async () => {
    const error = await dlt.attach({ pipelineName: "nowhere", pipelinesDir }).catch((e: unknown) => e);
    expect(dlt.isTsdltError(error, "CANNOT_RESTORE_PIPELINE")).toBe(true);
    expect((error as Error).message).toMatch(
      /Pipeline `nowhere` in .* could not be restored: no local state in .*nowhere, and no destination to restore it from\. Pass `destination` \(and `datasetName`; the default is `nowhere_dataset`\)/,
    );
    expect(existsSync(join(pipelinesDir, "nowhere"))).toBe(false);
  });

  it("should fail clearly when the dataset holds no state of the pipeline and leave no working folder", async () => {
    const other = dlt.pipeline({
      pipelineName: "other",
      pipelinesDir,
      destination: duckdb(),
      datasetName: "d",
    });
    await other.run([{ id: 1 }], { tableName: "items" });
    for (const datasetName of ["d", "missing_dataset"]) {
      const error = await dlt
        .attach({ pipelineName: "unknown", pipelinesDir, destination: duckdb(), datasetName })
        .catch((e: unknown) => e);
      expect(dlt.isTsdltError(error, "CANNOT_RESTORE_PIPELINE")).toBe(true);
      expect((error as Error).message).toContain(
        `checked the local state in ${join(pipelinesDir, "unknown")} and dataset \`${datasetName}\` in the destination; neither holds a state of this pipeline. If the pipeline loaded into another dataset, pass that \`datasetName\`.`,
      );
      expect(existsSync(join(pipelinesDir, "unknown"))).toBe(false);
    }
  });
});
