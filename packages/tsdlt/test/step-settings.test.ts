/**
 * `[extract]` and `[normalize]` settings reach their steps: `next_item_mode` decides whether root
 * resources are extracted side by side or one after another, and `[normalize] workers` is validated
 * with the key named.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as dlt from "../src/index.js";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-step-settings-"));
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

function newPipeline(): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: "steps",
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, "steps.duckdb") }),
    datasetName: "ds",
  });
}

/** Two resources that log when they produce each page. */
function loggingResources(log: string[]): dlt.DltResource[] {
  const make = (name: string) =>
    dlt.resource(
      async function* () {
        for (let page = 1; page <= 3; page++) {
          await sleep(5);
          log.push(`${name}${page}`);
          yield [{ page }];
        }
      },
      { name },
    );
  return [make("a"), make("b")];
}

describe("[extract] and [normalize] settings", () => {
  it("extracts root resources side by side by default and one after another with next_item_mode fifo", async () => {
    const sideBySide: string[] = [];
    await newPipeline().extract(loggingResources(sideBySide));
    expect(sideBySide.slice(0, 2).sort()).toEqual(["a1", "b1"]);

    vi.stubEnv("EXTRACT__NEXT_ITEM_MODE", "fifo");
    const oneByOne: string[] = [];
    await newPipeline().extract(loggingResources(oneByOne));
    expect(oneByOne).toEqual(["a1", "a2", "a3", "b1", "b2", "b3"]);
  });

  it("normalizes on the configured number of workers and names a bad value's key", async () => {
    vi.stubEnv("NORMALIZE__WORKERS", "1");
    const p = newPipeline();
    await p.run([{ id: 1 }], { tableName: "t" });
    expect(await p.query("SELECT id::INT AS id FROM ds.t")).toEqual([{ id: 1 }]);

    vi.stubEnv("NORMALIZE__WORKERS", "0");
    expect(() => newPipeline()).toThrow(/`workers` \(from Environment Variables `NORMALIZE__WORKERS`\)/);
  });
});
