/**
 * The load stage's retry and abort flow against the dummy destination of `@tsdlt/core/testing`
 * (dlt's `tests/load/test_dummy_client.py`): transient failures are retried with the retry count in
 * the job file name, terminal ones abort the package, random failures follow the injected random
 * source, and a failure outside the jobs leaves the package pending for the next run.
 */
import { join } from "node:path";
import { isTsdltError, LoadJobError, PACKAGE_FILES } from "@tsdlt/core";
import { type DummyDestination, type DummyDestinationOptions, dummyDestination } from "@tsdlt/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LoadResult, loadPackage } from "../src/index.js";
import {
  context,
  createFixture,
  DATASET,
  exceptionFiles,
  type Fixture,
  jobsIn,
  normalizedPackage,
  rejection,
} from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

const LOAD_ID = "1700000000.5";
const USERS = "users.aaaaaaaaa1.0.jsonl";
const MORE_USERS = "users.bbbbbbbbb2.0.jsonl";

/** A package with two jobs of `users`. */
function usersPackage(loadId = LOAD_ID): ReturnType<typeof normalizedPackage> {
  return normalizedPackage(
    fixture,
    [
      { table: "users", fileId: "aaaaaaaaa1", rows: [{ id: 1, name: "Alice" }] },
      { table: "users", fileId: "bbbbbbbbb2", rows: [{ id: 2, name: "Bob" }] },
    ],
    undefined,
    loadId,
  );
}

function run(destination: DummyDestination, loadId = LOAD_ID): Promise<LoadResult> {
  const pkg = fixture.storage.getPackage("normalized", loadId);
  if (!pkg) throw new Error(`package ${loadId} is not pending`);
  return loadPackage({
    package: pkg,
    storage: fixture.storage,
    destination,
    context: context(fixture),
    retryBaseDelayMs: 1,
  });
}

function dummy(options: DummyDestinationOptions = {}): DummyDestination {
  return dummyDestination(options);
}

const outcomes = (destination: DummyDestination, fileId: string): string[] =>
  destination.attempts.filter((a) => a.fileName.includes(fileId)).map((a) => `${a.retryCount}:${a.outcome}`);

describe("load stage with the dummy destination: retries", () => {
  it("should retry a transiently failing job with the retry count in its file name, then complete the package", async () => {
    usersPackage();
    const destination = dummy({ jobFailures: [{ fileId: "aaaaaaaaa1", retryable: true, times: 2 }] });
    const result = await run(destination);

    expect(result.state).toBe("loaded");
    expect(outcomes(destination, "aaaaaaaaa1")).toEqual(["0:retry", "1:retry", "2:completed"]);
    expect(outcomes(destination, "bbbbbbbbb2")).toEqual(["0:completed"]);
    expect(jobsIn(result.package.path, "completed_jobs")).toEqual(["users.aaaaaaaaa1.2.jsonl", MORE_USERS]);
    // loaded once each, the retried job last
    expect(destination.rows(DATASET, "users")).toEqual([
      { id: 2, name: "Bob" },
      { id: 1, name: "Alice" },
    ]);
    expect(destination.completedLoads(DATASET)).toEqual([LOAD_ID]);
  });

  it("should retry jobs that fail at random with the injected random source", async () => {
    usersPackage();
    // draws per run: fail?, retry? — the first run of each job fails transiently, the second loads
    const draws = [0.9, 0.1, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9];
    const destination = dummy({
      failProbability: 0.5,
      retryProbability: 0.5,
      random: () => draws.shift() ?? 0.9,
    });
    const result = await run(destination);

    expect(result.state).toBe("loaded");
    expect(destination.attempts.map((a) => a.outcome).sort()).toEqual([
      "completed",
      "completed",
      "retry",
      "retry",
    ]);
    expect(destination.rows(DATASET, "users")).toHaveLength(2);
  });

  it("should keep a job pending once its retries are used up and never complete the package", async () => {
    usersPackage();
    const destination = dummy({ jobFailures: [{ fileId: "aaaaaaaaa1", retryable: true }] });
    const pkg = fixture.storage.getPackage("normalized", LOAD_ID);
    const error = await rejection(
      loadPackage({
        package: pkg as NonNullable<typeof pkg>,
        storage: fixture.storage,
        destination,
        context: context(fixture),
        retryBaseDelayMs: 1,
        maxRetries: 3,
      }),
    );

    expect(error).toBeInstanceOf(LoadJobError);
    expect(isTsdltError(error, "LOAD_JOB_RETRY")).toBe(true);
    expect(error.message).toContain("users.aaaaaaaaa1");
    expect(outcomes(destination, "aaaaaaaaa1")).toEqual(["0:retry", "1:retry", "2:retry"]);
    expect(destination.completedLoads(DATASET)).toEqual([]);
    expect(fixture.storage.getPackage("normalized", LOAD_ID)).toBeDefined();
  });
});

describe("load stage with the dummy destination: aborts", () => {
  it("should abort the package on a terminal failure and keep the failed job with its exception", async () => {
    usersPackage();
    const destination = dummy({ jobFailures: [{ table: "users", fileId: "aaaaaaaaa1", retryable: false }] });
    const error = await rejection(run(destination));

    expect(error).toBeInstanceOf(LoadJobError);
    expect(isTsdltError(error, "LOAD_JOB_FAILED")).toBe(true);
    expect(error.message).toMatch(
      /Job `users\.aaaaaaaaa1\.0\.jsonl` in load `1700000000\.5` failed terminally/,
    );
    expect(outcomes(destination, "aaaaaaaaa1")).toEqual(["0:failed"]);
    const aborted = join(fixture.storage.root, "loaded", LOAD_ID);
    expect(fixture.storage.listPackages("normalized")).toEqual([]);
    expect(jobsIn(aborted, "failed_jobs")).toEqual([USERS]);
    expect(jobsIn(aborted, "completed_jobs")).toEqual([MORE_USERS]);
    expect(exceptionFiles(aborted)).toEqual(["users.aaaaaaaaa1.jsonl.exception"]);
    expect(fixture.storage.getPackage("loaded", LOAD_ID)?.readJson(PACKAGE_FILES.completed)).toEqual({
      status: "aborted",
    });
    // the other job's rows are in the dataset, but no `_dlt_loads` row marks the package complete
    expect(destination.rows(DATASET, "users")).toEqual([{ id: 2, name: "Bob" }]);
    expect(destination.completedLoads(DATASET)).toEqual([]);
  });

  it("should fail every job terminally with failProbability 1", async () => {
    usersPackage();
    const destination = dummy({ failProbability: 1 });
    await expect(run(destination)).rejects.toBeInstanceOf(LoadJobError);
    expect(destination.attempts.map((a) => a.outcome)).toEqual(["failed", "failed"]);
  });

  it("should fail a job terminally when creating it fails", async () => {
    usersPackage();
    const destination = dummy({ jobFailures: [{ fileId: "bbbbbbbbb2", retryable: false, at: "create" }] });
    await expect(run(destination)).rejects.toThrow(/users\.bbbbbbbbb2\.0\.jsonl.*failed terminally/);
    expect(outcomes(destination, "bbbbbbbbb2")).toEqual(["0:failed"]);
  });

  it("should keep the rows of a value its column cannot hold out of the dataset and abort", async () => {
    normalizedPackage(
      fixture,
      [{ table: "users", fileId: "ccccccccc3", rows: [{ id: "x", name: 1 }] }],
      undefined,
      LOAD_ID,
    );
    const destination = dummy();
    await expect(run(destination)).rejects.toThrow(/column `id` \(bigint\): "x" is not an integer/);
    expect(destination.rows(DATASET, "users")).toEqual([]);
  });
});

describe("load stage with the dummy destination: pending packages", () => {
  it.each(["createClient", "initializeStorage", "updateStoredSchema"] as const)(
    "should leave the package pending when %s fails, and finish it on the next run",
    async (step) => {
      usersPackage();
      const destination = dummy({ stepFailures: { [step]: { retryable: true, times: 1 } } });
      await expect(run(destination)).rejects.toThrow(new RegExp(`\`${step}\` failed transiently`));
      expect(fixture.storage.listPackages("normalized")).toEqual([LOAD_ID]);
      expect(destination.attempts).toEqual([]);

      const result = await run(destination);
      expect(result.state).toBe("loaded");
      expect(destination.rows(DATASET, "users")).toHaveLength(2);
      expect(destination.completedLoads(DATASET)).toEqual([LOAD_ID]);
    },
  );

  it("should not repeat completed jobs when completeLoad failed, and record the load on the next run", async () => {
    usersPackage();
    const destination = dummy({ stepFailures: { completeLoad: { retryable: true, times: 1 } } });
    await expect(run(destination)).rejects.toThrow(/`completeLoad` failed transiently/);
    const pending = fixture.storage.getPackage("normalized", LOAD_ID);
    expect(jobsIn(pending?.path ?? "", "completed_jobs")).toEqual([USERS, MORE_USERS]);

    await run(destination);
    expect(destination.attempts.map((a) => a.outcome)).toEqual(["completed", "completed"]);
    expect(destination.rows(DATASET, "users")).toHaveLength(2);
    expect(destination.completedLoads(DATASET)).toEqual([LOAD_ID]);
  });
});
