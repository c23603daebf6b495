/**
 * Global DuckDB settings held while loads run (issue 12): set by the first holder, restored by the
 * last, shared by every client of one database file, and never failing the work.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { withHeldSetting } from "../src/held-settings.js";

let dir: string;
let path: string;
const instances: DuckDBInstance[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsdlt-duckdb-held-"));
  path = join(dir, "db.duckdb");
});
afterEach(async () => {
  for (const instance of instances.splice(0)) instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.fromCache(path);
  instances.push(instance);
  return instance;
}

async function threads(instance: DuckDBInstance): Promise<number> {
  const c = await instance.connect();
  try {
    const reader = await c.runAndReadAll("SELECT current_setting('threads') AS t");
    return Number(reader.getRowObjects()[0]?.t);
  } finally {
    c.closeSync();
  }
}

describe("withHeldSetting", () => {
  it("should hold a setting while work runs and restore the previous value, also after a failure", async () => {
    const instance = await open();
    const c = await instance.connect();
    await c.run("SET GLOBAL threads = 3");
    c.closeSync();
    expect(await withHeldSetting(instance, path, "threads", 1, () => threads(instance))).toBe(1);
    expect(await threads(instance)).toBe(3);
    await expect(
      withHeldSetting(instance, path, "threads", 1, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await threads(instance)).toBe(3);
  });

  it("should keep the setting until the last of overlapping holders, across clients of one file", async () => {
    const a = await open();
    const b = await open();
    const initial = await threads(a);
    let releaseFirst: () => void = () => {};
    const first = withHeldSetting(
      a,
      path,
      "threads",
      1,
      () => new Promise<void>((done) => (releaseFirst = done)),
    );
    // the second holder enters while the first holds, with another value: the first value stays
    const seen = await withHeldSetting(b, path, "threads", 2, async () => {
      await new Promise((r) => setTimeout(r, 10));
      return threads(b);
    });
    expect(seen).toBe(1);
    expect(await threads(a)).toBe(1);
    releaseFirst();
    await first;
    expect(await threads(a)).toBe(initial);
  });

  it("should give the buffer pool its memory limit back, without drifting over repeated holds", async () => {
    // a RESET would leave the buffer pool at the lower limit (DuckDB 1.5), and setting the rendered
    // value (`18.8 GiB`) back reads as a lower one: the pool's limit must read as before every time
    const instance = await open();
    const c = await instance.connect();
    const poolLimit = async (): Promise<string> =>
      String((await c.runAndReadAll("PRAGMA database_size")).getRowObjects()[0]?.memory_limit);
    try {
      const before = await poolLimit();
      for (let i = 0; i < 3; i++) {
        expect(await withHeldSetting(instance, path, "memory_limit", "128MB", poolLimit)).toBe("122.0 MiB");
        expect(await poolLimit()).toBe(before);
      }
    } finally {
      c.closeSync();
    }
  });

  it("should run the work when DuckDB refuses the value", async () => {
    const instance = await open();
    const before = await threads(instance);
    expect(await withHeldSetting(instance, path, "threads", -5, async () => "done")).toBe("done");
    expect(await threads(instance)).toBe(before);
  });

  it("should run the work as it is without a value", async () => {
    const instance = await open();
    expect(await withHeldSetting(instance, path, "memory_limit", undefined, async () => 42)).toBe(42);
  });
});
