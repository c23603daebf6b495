import { existsSync } from "node:fs";
import { join } from "node:path";
import { isTsdltError, LoadJobError, PACKAGE_FILES, Schema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPackage } from "../src/index.js";
import {
  context,
  createFixture,
  DATASET,
  destination,
  exceptionFiles,
  type Fixture,
  jobsIn,
  load,
  normalizedPackage,
  readText,
  recordingLogger,
  rejection,
  testSchema,
} from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

const USERS = "users.aaaaaaaaa1.0.jsonl";
const ORDERS = "orders.bbbbbbbbb2.0.jsonl";
const ITEMS = "orders__items.ccccccccc3.0.jsonl";

function standardPackage(loadId = "1700000000.5"): ReturnType<typeof normalizedPackage> {
  return normalizedPackage(
    fixture,
    [
      {
        table: "users",
        fileId: "aaaaaaaaa1",
        rows: [
          { id: 1, name: "Alice" },
          { id: 2, name: "Bob" },
        ],
      },
      { table: "orders", fileId: "bbbbbbbbb2", rows: [{ id: 10 }] },
      { table: "orders__items", fileId: "ccccccccc3", rows: [{ sku: "x" }, { sku: "y" }] },
    ],
    testSchema(),
    loadId,
  );
}

describe("loadPackage: success", () => {
  it("should run every job, complete the load once and archive the package as loaded", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture);
    const result = await load(fixture, pkg, dest);

    expect(result.state).toBe("loaded");
    expect(result.loadId).toBe("1700000000.5");
    expect(result.failedJobs).toEqual([]);
    expect([...result.completedJobs].sort()).toEqual([
      "orders.bbbbbbbbb2.jsonl",
      "orders__items.ccccccccc3.jsonl",
      "users.aaaaaaaaa1.jsonl",
    ]);
    expect(result.finishedAt.getTime()).toBeGreaterThanOrEqual(result.startedAt.getTime());

    // the package moved from normalized/ to loaded/
    const loadedPath = join(fixture.storage.root, "loaded", "1700000000.5");
    expect(result.package.path).toBe(loadedPath);
    expect(existsSync(pkg.path)).toBe(false);
    expect(fixture.storage.listPackages("normalized")).toEqual([]);
    expect(fixture.storage.listPackages("loaded")).toEqual(["1700000000.5"]);
    expect(jobsIn(loadedPath, "completed_jobs")).toEqual([ITEMS, ORDERS, USERS].sort());
    expect(jobsIn(loadedPath, "new_jobs")).toEqual([]);
    expect(jobsIn(loadedPath, "started_jobs")).toEqual([]);
    expect(jobsIn(loadedPath, "failed_jobs")).toEqual([]);
    expect(result.package.readJson(PACKAGE_FILES.completed)).toEqual({ status: "loaded" });

    // the destination received the rows and one completeLoad
    expect(dest.rows(DATASET, "users")).toEqual([
      { id: 1, name: "Alice" },
      { id: 2, name: "Bob" },
    ]);
    expect(dest.rows(DATASET, "orders__items")).toEqual([{ sku: "x" }, { sku: "y" }]);
    expect(dest.calls.completeLoad).toEqual(["1700000000.5"]);
    expect(dest.completedLoads(DATASET)).toEqual(["1700000000.5"]);
    // GuardedClient initialises once although every call goes through initializeStorage()
    expect(dest.calls.createClient).toBe(1);
    expect(dest.calls.initializeStorage).toBe(1);
    expect(dest.calls.updateStoredSchema).toBe(1);
    expect(dest.calls.dispose).toBe(1);
  });

  it("should apply the schema update and write it to applied_schema_updates.json", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture);
    const result = await load(fixture, pkg, dest);

    const expected = { users: ["id", "name"], orders: ["id"], orders__items: ["sku"] };
    expect(result.schemaUpdate.tables).toEqual(expected);
    expect(result.schemaUpdate.statements).toHaveLength(3);
    expect(result.package.readJson(PACKAGE_FILES.appliedSchemaUpdates)).toEqual(expected);
  });

  it("should record an empty schema update when the destination already has the schema", async () => {
    const dest = destination(fixture);
    await load(fixture, standardPackage("1.1").pkg, dest);
    const second = await load(fixture, standardPackage("1.2").pkg, dest);
    expect(second.schemaUpdate.tables).toEqual({});
    expect(second.package.readJson(PACKAGE_FILES.appliedSchemaUpdates)).toEqual({});
    expect(dest.completedLoads(DATASET)).toEqual(["1.1", "1.2"]);
  });

  it("should hand each job its table with the write disposition resolved from the root", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture);
    await load(fixture, pkg, dest);
    expect(dest.calls.tables[USERS]?.write_disposition).toBe("append");
    expect(dest.calls.tables[ORDERS]?.write_disposition).toBe("merge");
    expect(dest.calls.tables[ITEMS]).toMatchObject({
      name: "orders__items",
      parent: "orders",
      write_disposition: "merge",
    });
  });

  it("should complete a package without jobs", async () => {
    const { pkg } = normalizedPackage(fixture, [], testSchema(), "2.0");
    const dest = destination(fixture);
    const result = await load(fixture, pkg, dest);
    expect(result.state).toBe("loaded");
    expect(result.completedJobs).toEqual([]);
    expect(dest.calls.completeLoad).toEqual(["2.0"]);
  });

  it("should run at most `workers` jobs at once", async () => {
    const jobs = Array.from({ length: 6 }, (_, i) => ({ table: "users", rows: [{ id: i }] }));
    const dest = destination(fixture);
    const result = await load(fixture, normalizedPackage(fixture, jobs).pkg, dest, { workers: 2 });
    expect(result.completedJobs).toHaveLength(6);
    expect(dest.calls.maxConcurrentRuns).toBe(2);
  });

  it("should take the default worker count from capabilities.maxParallelLoadJobs", async () => {
    const jobs = Array.from({ length: 4 }, (_, i) => ({ table: "users", rows: [{ id: i }] }));
    const dest = destination(fixture, { capabilities: { maxParallelLoadJobs: 1 } });
    await load(fixture, normalizedPackage(fixture, jobs).pkg, dest);
    expect(dest.calls.maxConcurrentRuns).toBe(1);
    expect(dest.rows(DATASET, "users")).toHaveLength(4);
  });
});

describe("loadPackage: transient failures", () => {
  it("should retry a transient failure under a new retry count and then succeed", async () => {
    const { pkg } = standardPackage();
    const logger = recordingLogger();
    const dest = destination(fixture, { failures: { [USERS]: { kind: "transient", times: 1 } } });
    const result = await load(fixture, pkg, dest, { logger });

    expect(result.state).toBe("loaded");
    expect(result.failedJobs).toEqual([]);
    expect(result.completedJobs).toContain("users.aaaaaaaaa1.jsonl");
    expect(dest.calls.createLoadJob.filter((f) => f.startsWith("users."))).toEqual([
      "users.aaaaaaaaa1.0.jsonl",
      "users.aaaaaaaaa1.1.jsonl",
    ]);
    expect(jobsIn(result.package.path, "completed_jobs")).toContain("users.aaaaaaaaa1.1.jsonl");
    expect(jobsIn(result.package.path, "completed_jobs")).not.toContain(USERS);
    expect(dest.rows(DATASET, "users")).toHaveLength(2);
    expect(dest.calls.completeLoad).toEqual([result.loadId]);
    // `orders` is a merge table and the file destination supports no merge strategy: one warning each
    const retries = logger.messages.filter((m) => m.level === "warn" && m.message.includes("transiently"));
    expect(retries).toHaveLength(1);
    expect(retries[0]?.message).toMatch(/users\.aaaaaaaaa1\.jsonl failed transiently, retry 1 in 1 ms/);
  });

  it("should hand the destination the retry count and back off exponentially", async () => {
    const { pkg } = standardPackage();
    const logger = recordingLogger();
    const dest = destination(fixture, { failures: { [USERS]: { kind: "transient", times: 3 } } });
    const result = await load(fixture, pkg, dest, { logger, workers: 1 });

    expect(jobsIn(result.package.path, "completed_jobs")).toContain("users.aaaaaaaaa1.3.jsonl");
    const userCalls = dest.calls.createLoadJob
      .map((f, i) => [f, dest.calls.retryCounts[i]] as const)
      .filter(([f]) => f.startsWith("users."));
    expect(userCalls).toEqual([
      ["users.aaaaaaaaa1.0.jsonl", 0],
      ["users.aaaaaaaaa1.1.jsonl", 1],
      ["users.aaaaaaaaa1.2.jsonl", 2],
      ["users.aaaaaaaaa1.3.jsonl", 3],
    ]);
    const delays = logger.messages
      .filter((m) => m.level === "warn" && m.message.includes("transiently"))
      .map((m) => Number(/in (\d+) ms/.exec(m.message)?.[1]));
    expect(delays).toEqual([1, 2, 4]);
  });

  it("should succeed on the last allowed attempt (`maxRetries` attempts in all)", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture, { failures: { [USERS]: { kind: "transient", times: 2 } } });
    const result = await load(fixture, pkg, dest, { maxRetries: 3 });
    expect(result.failedJobs).toEqual([]);
    expect(jobsIn(result.package.path, "completed_jobs")).toContain("users.aaaaaaaaa1.2.jsonl");
  });

  it("should keep a job whose transient failures use up `maxRetries` pending, and retry it in the next run", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture, {
      failures: { [USERS]: { kind: "transient", times: 3, message: "connection reset" } },
    });
    const error = await rejection(load(fixture, pkg, dest, { maxRetries: 3, raiseOnFailedJobs: false }));

    expect(isTsdltError(error, "LOAD_JOB_RETRY")).toBe(true);
    expect((error as LoadJobError).retryable).toBe(true);
    expect(error.message).toContain("users.aaaaaaaaa1.jsonl");
    expect(error.message).toContain("connection reset");
    expect(error.message).toContain("stays pending");
    expect(dest.calls.runs.filter((f) => f.startsWith("users."))).toHaveLength(3);
    // nothing failed, nothing completed: the job waits in new_jobs with its retry count
    const pending = fixture.storage.getPackage("normalized", pkg.loadId);
    expect(pending).toBeDefined();
    expect(jobsIn(pkg.path, "failed_jobs")).toEqual([]);
    expect(jobsIn(pkg.path, "new_jobs")).toContain("users.aaaaaaaaa1.3.jsonl");
    expect(dest.calls.completeLoad).toEqual([]);

    // the next run gets a fresh set of attempts and finishes the package
    const result = await load(fixture, pending as NonNullable<typeof pending>, dest, { maxRetries: 3 });
    expect(result.state).toBe("loaded");
    expect(result.failedJobs).toEqual([]);
    expect(jobsIn(result.package.path, "completed_jobs")).toContain("users.aaaaaaaaa1.3.jsonl");
    expect(dest.rows(DATASET, "users").length).toBeGreaterThan(0);
  });

  it("should raise LOAD_JOB_RETRY, not abort, for exhausted transient failures when `raiseOnFailedJobs` is on", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture, { failures: { [USERS]: { kind: "transient", times: 10 } } });
    const error = await rejection(load(fixture, pkg, dest, { maxRetries: 2 }));
    expect(isTsdltError(error, "LOAD_JOB_RETRY")).toBe(true);
    expect(error.message).toContain("users.aaaaaaaaa1.jsonl");
    expect(dest.calls.completeLoad).toEqual([]);
    expect(fixture.storage.getPackage("normalized", pkg.loadId)).toBeDefined();
  });
});

describe("loadPackage: terminal failures", () => {
  it("should abort the package and raise LOAD_JOB_FAILED naming the job and the load", async () => {
    const { pkg } = standardPackage("1700000000.7");
    const dest = destination(fixture, {
      failures: { [USERS]: { kind: "terminal", message: "column `name` is too long" } },
    });
    const error = await rejection(load(fixture, pkg, dest));

    expect(error).toBeInstanceOf(LoadJobError);
    expect(isTsdltError(error, "LOAD_JOB_FAILED")).toBe(true);
    const e = error as LoadJobError;
    expect(e.retryable).toBe(false);
    expect(e.loadId).toBe("1700000000.7");
    expect(e.jobId).toBe("users.aaaaaaaaa1.jsonl");
    expect(e.table).toBe("users");
    expect(e.destination).toBe("file_dest");
    expect(e.message).toContain("[tsdlt] [file_dest]");
    expect(e.message).toContain(`\`${USERS}\``);
    expect(e.message).toContain("`1700000000.7`");
    expect(e.message).toContain("column `name` is too long");
    expect(e.message).toMatch(/The package is aborted/);

    // terminal: not retried, no completeLoad
    expect(dest.calls.runs.filter((f) => f.startsWith("users."))).toEqual([USERS]);
    expect(dest.calls.completeLoad).toEqual([]);
    expect(dest.completedLoads(DATASET)).toEqual([]);

    // the package is archived as aborted with the failed job and its exception
    const loaded = fixture.storage.getPackage("loaded", "1700000000.7");
    expect(loaded).toBeDefined();
    expect(fixture.storage.listPackages("normalized")).toEqual([]);
    expect(loaded?.readJson(PACKAGE_FILES.completed)).toEqual({ status: "aborted" });
    expect(jobsIn(loaded?.path ?? "", "failed_jobs")).toEqual([USERS]);
    const exceptions = exceptionFiles(loaded?.path ?? "");
    expect(exceptions).toHaveLength(1);
    expect(readText(join(loaded?.path ?? "", "failed_jobs", exceptions[0] ?? ""))).toBe(
      "column `name` is too long",
    );
    expect(e.message).toContain(join(loaded?.path ?? "", "failed_jobs"));

    // the other jobs completed
    expect(jobsIn(loaded?.path ?? "", "completed_jobs")).toEqual([ITEMS, ORDERS].sort());
    expect(dest.rows(DATASET, "orders")).toEqual([{ id: 10 }]);
    expect(dest.calls.dispose).toBe(1);
  });

  it("should keep a destination message that already follows the tsdlt format", async () => {
    const { pkg } = standardPackage("1700000000.8");
    const message = `[tsdlt] [file_dest] Job \`${USERS}\` in load \`1700000000.8\` failed terminally: bad row`;
    const dest = destination(fixture, { failures: { [USERS]: { kind: "terminal", message } } });
    const error = await rejection(load(fixture, pkg, dest));
    expect(error.message.startsWith(`${message}. The package is aborted`)).toBe(true);
    expect(error.message.match(/\[tsdlt\]/g)).toHaveLength(1);
  });

  it("should list failed jobs and still complete the load when `raiseOnFailedJobs` is false", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture, { failures: { [ORDERS]: { kind: "terminal", message: "nope" } } });
    const result = await load(fixture, pkg, dest, { raiseOnFailedJobs: false });

    expect(result.state).toBe("loaded");
    expect(result.failedJobs).toEqual([
      { jobId: "orders.bbbbbbbbb2.jsonl", fileName: ORDERS, table: "orders", message: "nope" },
    ]);
    expect([...result.completedJobs].sort()).toEqual([
      "orders__items.ccccccccc3.jsonl",
      "users.aaaaaaaaa1.jsonl",
    ]);
    expect(dest.calls.completeLoad).toEqual([result.loadId]);
    expect(result.package.readJson(PACKAGE_FILES.completed)).toEqual({ status: "loaded" });
    expect(jobsIn(result.package.path, "failed_jobs")).toEqual([ORDERS]);
    expect(result.package.readJobException(ORDERS)).toBe("nope");
  });

  it("should treat a plain Error from a job as terminal and dispose the client once", async () => {
    const { pkg } = standardPackage();
    const dest = destination(fixture, { failures: { [USERS]: { kind: "crash", message: "segfault-ish" } } });
    const result = await load(fixture, pkg, dest, { raiseOnFailedJobs: false });
    expect(result.failedJobs.map((f) => f.message)).toEqual(["segfault-ish"]);
    expect(dest.calls.runs.filter((f) => f.startsWith("users."))).toHaveLength(1);
    expect(dest.calls.dispose).toBe(1);
  });

  it("should dispose the client exactly once when the load raises", async () => {
    const dest = destination(fixture, { failures: { [USERS]: { kind: "crash" } } });
    await rejection(load(fixture, standardPackage().pkg, dest));
    expect(dest.calls.dispose).toBe(1);
  });

  it("should dispose the client and leave the package pending when the schema update fails", async () => {
    const { pkg } = standardPackage("1700000000.9");
    const dest = destination(fixture, { failSchemaUpdate: new Error("permission denied") });
    const error = await rejection(load(fixture, pkg, dest));
    expect(error.message).toBe("permission denied");
    expect(dest.calls.dispose).toBe(1);
    expect(dest.calls.createLoadJob).toEqual([]);
    expect(fixture.storage.listPackages("normalized")).toEqual(["1700000000.9"]);
    expect(jobsIn(pkg.path, "new_jobs")).toHaveLength(3);
  });

  it("should fail a job whose table is missing from the schema with a clear message", async () => {
    const { pkg } = normalizedPackage(fixture, [
      { table: "users", fileId: "aaaaaaaaa1", rows: [{ id: 1 }] },
      { table: "ghosts", fileId: "ddddddddd4", rows: [{ id: 2 }] },
    ]);
    const dest = destination(fixture);
    const result = await load(fixture, pkg, dest, { raiseOnFailedJobs: false });

    const [failed] = result.failedJobs;
    expect(result.failedJobs).toHaveLength(1);
    expect(failed?.fileName).toBe("ghosts.ddddddddd4.0.jsonl");
    expect(failed?.table).toBe("ghosts");
    expect(failed?.message).toContain("`ghosts.ddddddddd4.0.jsonl`");
    expect(failed?.message).toContain("`ghosts`");
    expect(failed?.message).toContain("not in schema `s`");
    // never handed to the destination, not retried
    expect(dest.calls.createLoadJob).toEqual([USERS]);
    expect(jobsIn(result.package.path, "failed_jobs")).toEqual(["ghosts.ddddddddd4.0.jsonl"]);
    expect(result.package.readJobException("ghosts.ddddddddd4.0.jsonl")).toBe(failed?.message);
  });

  it("should raise for a job of a table missing from the schema by default", async () => {
    const { pkg } = normalizedPackage(fixture, [
      { table: "ghosts", fileId: "ddddddddd4", rows: [{ id: 2 }] },
    ]);
    const dest = destination(fixture);
    const error = await rejection(load(fixture, pkg, dest));
    expect(isTsdltError(error, "LOAD_JOB_FAILED")).toBe(true);
    expect(error.message).toContain("not in schema `s`");
    expect(dest.calls.completeLoad).toEqual([]);
  });
});

describe("loadPackage: resume after a crash", () => {
  it("should run started and new jobs and not repeat completed ones", async () => {
    const { pkg } = normalizedPackage(fixture, [
      { table: "users", fileId: "aaaaaaaaa1", rows: [{ id: 1 }], state: "completed_jobs" },
      { table: "users", fileId: "aaaaaaaaa2", rows: [{ id: 2 }], state: "started_jobs" },
      { table: "users", fileId: "aaaaaaaaa3", rows: [{ id: 3 }] },
      { table: "orders", fileId: "bbbbbbbbb2", rows: [{ id: 10 }] },
    ]);
    const dest = destination(fixture);
    const result = await load(fixture, pkg, dest, { workers: 1 });

    // started jobs of the crashed run go first, then the new ones
    expect(dest.calls.runs).toEqual([
      "users.aaaaaaaaa2.0.jsonl",
      "orders.bbbbbbbbb2.0.jsonl",
      "users.aaaaaaaaa3.0.jsonl",
    ]);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 2 }, { id: 3 }]);
    expect([...result.completedJobs].sort()).toEqual([
      "orders.bbbbbbbbb2.jsonl",
      "users.aaaaaaaaa1.jsonl",
      "users.aaaaaaaaa2.jsonl",
      "users.aaaaaaaaa3.jsonl",
    ]);
    expect(jobsIn(result.package.path, "completed_jobs")).toEqual([
      "orders.bbbbbbbbb2.0.jsonl",
      "users.aaaaaaaaa1.0.jsonl",
      "users.aaaaaaaaa2.0.jsonl",
      "users.aaaaaaaaa3.0.jsonl",
    ]);
    expect(dest.calls.completeLoad).toEqual([result.loadId]);
  });

  it("should continue the retry count of a started job from its file name", async () => {
    const { pkg } = normalizedPackage(fixture, [
      { table: "users", fileId: "aaaaaaaaa2", retryCount: 1, rows: [{ id: 2 }], state: "started_jobs" },
    ]);
    const dest = destination(fixture, {
      failures: { "users.aaaaaaaaa2.0.jsonl": { kind: "transient", times: 1 } },
    });
    const result = await load(fixture, pkg, dest);
    expect(dest.calls.createLoadJob).toEqual(["users.aaaaaaaaa2.1.jsonl", "users.aaaaaaaaa2.2.jsonl"]);
    expect(jobsIn(result.package.path, "completed_jobs")).toEqual(["users.aaaaaaaaa2.2.jsonl"]);
  });

  it("should resume a package whose schema was already applied", async () => {
    const dest = destination(fixture);
    await load(fixture, standardPackage("3.1").pkg, dest);
    const { pkg } = normalizedPackage(
      fixture,
      [{ table: "users", fileId: "aaaaaaaaa9", rows: [{ id: 9 }], state: "started_jobs" }],
      testSchema(),
      "3.2",
    );
    const result = await load(fixture, pkg, dest);
    expect(result.schemaUpdate.tables).toEqual({});
    expect(dest.completedLoads(DATASET)).toEqual(["3.1", "3.2"]);
  });
});

describe("loadPackage: abort signal", () => {
  it("should not retry once the signal is aborted", async () => {
    const { pkg } = standardPackage();
    const controller = new AbortController();
    controller.abort();
    const seen: (AbortSignal | undefined)[] = [];
    const dest = destination(fixture, {
      failures: { [USERS]: { kind: "transient", times: 3, message: "busy" } },
      beforeRun: (_file, signal) => {
        seen.push(signal);
      },
    });
    const result = await loadPackage({
      package: pkg,
      storage: fixture.storage,
      destination: dest,
      context: context(fixture, controller.signal),
      retryBaseDelayMs: 1,
      raiseOnFailedJobs: false,
    });
    expect(dest.calls.runs.filter((f) => f.startsWith("users."))).toEqual([USERS]);
    expect(result.failedJobs.map((f) => f.fileName)).toEqual([USERS]);
    // the signal is forwarded to every job
    expect(seen.every((s) => s === controller.signal)).toBe(true);
  });

  it("should stop waiting for a retry when the signal is aborted during the backoff", async () => {
    const { pkg } = standardPackage();
    const controller = new AbortController();
    const dest = destination(fixture, {
      failures: { [USERS]: { kind: "transient", times: 3, message: "busy" } },
      beforeRun: (file) => {
        // abort shortly after the first attempt failed, while the loader waits to retry
        if (file.fileName === USERS) setTimeout(() => controller.abort(), 20);
      },
    });
    const started = Date.now();
    const result = await loadPackage({
      package: pkg,
      storage: fixture.storage,
      destination: dest,
      context: context(fixture, controller.signal),
      retryBaseDelayMs: 60_000,
      raiseOnFailedJobs: false,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(dest.calls.runs.filter((f) => f.startsWith("users."))).toEqual([USERS]);
    expect(result.failedJobs).toHaveLength(1);
    expect(result.failedJobs[0]?.message).toBe("busy");
    expect(dest.calls.dispose).toBe(1);
  });
});

describe("loadPackage: invalid packages", () => {
  it("should reject a package without schema.json", async () => {
    const temp = fixture.storage.createTempPackage("4.0");
    const pkg = fixture.storage.commitPackage(temp, "normalized");
    const dest = destination(fixture);
    const error = await rejection(load(fixture, pkg, dest));
    expect(isTsdltError(error, "LOAD_PACKAGE_INVALID")).toBe(true);
    expect(dest.calls.createClient).toBe(0);
  });

  it("should load with a schema read from the package, not the caller's", async () => {
    const schema = new Schema("other");
    schema.updateTable({ name: "things", columns: { id: { name: "id", data_type: "bigint" } } });
    const { pkg } = normalizedPackage(fixture, [{ table: "things", rows: [{ id: 1 }] }], schema);
    const dest = destination(fixture);
    const result = await load(fixture, pkg, dest);
    expect(result.schemaUpdate.tables).toEqual({ things: ["id"] });
    expect(dest.rows(DATASET, "things")).toEqual([{ id: 1 }]);
  });
});
