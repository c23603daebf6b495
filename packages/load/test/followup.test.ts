/**
 * Write dispositions in the load stage: staging routing, staging truncation, table-chain follow-up
 * jobs (`<root>.<file_id>.0.sql`), skip tables, and what a failed or crashed load leaves behind. The
 * file destination's follow-ups replace (or append) dataset files with their staging copies, so the
 * flow is observable without SQL.
 */
import { writeFileSync } from "node:fs";
import { isTsdltError, type LoadPackage, PACKAGE_FILES, Schema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FileFollowupCommand, fileDestination } from "./file-destination.js";
import {
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
} from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

const STAGING = `${DATASET}_staging`;

/** `orders` (merge) + `orders__items`, `users` (replace) + `users__tags`, `events` (append), `ignored` (skip). */
function dispositionSchema(): Schema {
  const schema = new Schema("s");
  const id = { name: "id", data_type: "bigint" as const };
  schema.updateTable({
    name: "orders",
    write_disposition: "merge",
    columns: { id: { ...id, primary_key: true, nullable: false } },
  });
  schema.updateTable({
    name: "orders__items",
    parent: "orders",
    columns: { sku: { name: "sku", data_type: "text" } },
  });
  schema.updateTable({ name: "users", write_disposition: "replace", columns: { id } });
  schema.updateTable({
    name: "users__tags",
    parent: "users",
    columns: { tag: { name: "tag", data_type: "text" } },
  });
  // declared, never typed: not part of any chain
  schema.updateTable({ name: "users__notes", parent: "users", columns: { note: { name: "note" } } });
  schema.updateTable({ name: "events", write_disposition: "append", columns: { id } });
  schema.updateTable({ name: "ignored", write_disposition: "skip", columns: { id } });
  return schema;
}

const ORDERS = "orders.aaaaaaaaa1.0.jsonl";
const ITEMS = "orders__items.aaaaaaaaa2.0.jsonl";
const USERS = "users.bbbbbbbbb1.0.jsonl";
const EVENTS = "events.ccccccccc1.0.jsonl";
const IGNORED = "ignored.ddddddddd1.0.jsonl";

function fullPackage(loadId = "1700000000.25"): ReturnType<typeof normalizedPackage> {
  return normalizedPackage(
    fixture,
    [
      { table: "orders", fileId: "aaaaaaaaa1", rows: [{ id: 1 }, { id: 2 }] },
      { table: "orders__items", fileId: "aaaaaaaaa2", rows: [{ sku: "x" }] },
      { table: "users", fileId: "bbbbbbbbb1", rows: [{ id: 10 }] },
      { table: "events", fileId: "ccccccccc1", rows: [{ id: 100 }] },
      { table: "ignored", fileId: "ddddddddd1", rows: [{ id: 1000 }] },
    ],
    dispositionSchema(),
    loadId,
  );
}

/** Follow-up job files in a job folder. */
function followups(
  path: string,
  state: "new_jobs" | "completed_jobs" | "failed_jobs" | "started_jobs",
): string[] {
  return jobsIn(path, state).filter((f) => f.endsWith(".sql"));
}

describe("loadPackage: staged chains and follow-up jobs", () => {
  it("should load merge and replace chains into staging and run one follow-up job per chain", async () => {
    const { pkg } = fullPackage();
    const dest = destination(fixture, { staging: true });
    // what the dataset held before: replaced, merged into
    dest.seed(DATASET, "users", [{ id: 1 }]);
    dest.seed(DATASET, "users__tags", [{ tag: "old" }]);
    dest.seed(DATASET, "orders", [{ id: 0 }]);
    const result = await load(fixture, pkg, dest);

    expect(result.state).toBe("loaded");
    expect(dest.calls.createStagingLoadJob.sort()).toEqual([ORDERS, ITEMS, USERS]);
    expect(dest.calls.createLoadJob.filter((f) => f.endsWith(".jsonl"))).toEqual([EVENTS]);
    // chains: every table with complete columns, nested ones without jobs included
    expect(dest.calls.stagingInit).toEqual([
      {
        tables: ["orders", "orders__items", "users", "users__tags"],
        truncateTables: ["orders", "orders__items", "users", "users__tags"],
      },
    ]);
    const chains = Object.fromEntries(
      dest.calls.followupChains.map((c) => [
        c.tables[0]?.name,
        { ...c, tables: c.tables.map((t) => t.name) },
      ]),
    );
    expect(chains).toEqual({
      orders: {
        tables: ["orders", "orders__items"],
        disposition: { kind: "merge", strategy: "delete-insert" },
        packageCreatedAt: new Date(1_700_000_000_250),
      },
      users: {
        tables: ["users", "users__tags"],
        disposition: { kind: "replace", strategy: "truncate-and-insert" },
        packageCreatedAt: new Date(1_700_000_000_250),
      },
    });
    // nested tables carry their root's write disposition
    expect(dest.calls.followupChains.flatMap((c) => c.tables.map((t) => t.write_disposition))).toEqual([
      "merge",
      "merge",
      "replace",
      "replace",
    ]);

    // follow-ups ran after every data job, before the load completed
    const completed = followups(result.package.path, "completed_jobs");
    expect(completed).toHaveLength(2);
    for (const file of completed) expect(file).toMatch(/^(orders|users)\.[0-9a-f]{10}\.0\.sql$/);
    const lastDataRun = Math.max(
      ...[ORDERS, ITEMS, USERS, EVENTS].map((f) => dest.calls.log.indexOf(`run:${f}`)),
    );
    const firstFollowup = dest.calls.log.findIndex((l) => l.startsWith("createTableChainFollowupJobs"));
    const followupRuns = dest.calls.log
      .filter((l) => /^run:.*\.sql$/.test(l))
      .map((l) => dest.calls.log.indexOf(l));
    expect(firstFollowup).toBeGreaterThan(lastDataRun);
    expect(Math.min(...followupRuns)).toBeGreaterThan(firstFollowup);
    expect(dest.calls.log.at(-1)).toBe(`completeLoad:${result.loadId}`);
    expect(result.completedJobs).toHaveLength(7);

    const usersCommand = completed.find((f) => f.startsWith("users.")) as string;
    expect(JSON.parse(readText(`${result.package.path}/completed_jobs/${usersCommand}`))).toEqual({
      kind: "replace",
      strategy: "truncate-and-insert",
      tables: ["users", "users__tags"],
    } satisfies FileFollowupCommand);

    expect(dest.rows(DATASET, "users")).toEqual([{ id: 10 }]);
    expect(dest.rows(DATASET, "users__tags")).toEqual([]);
    expect(dest.rows(DATASET, "orders")).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }]);
    expect(dest.rows(DATASET, "events")).toEqual([{ id: 100 }]);
  });

  it("should neither create nor load a skip table", async () => {
    const { pkg } = fullPackage();
    const dest = destination(fixture, { staging: true });
    const result = await load(fixture, pkg, dest);
    expect(dest.calls.runs).not.toContain(IGNORED);
    expect(jobsIn(result.package.path, "completed_jobs")).toContain(IGNORED);
    expect(dest.rows(DATASET, "ignored")).toEqual([]);
    const only = dest.calls.updateStoredSchemaOptions[0]?.onlyTables;
    expect(only).toContain("events");
    expect(only).not.toContain("ignored");
    expect(result.schemaUpdate.tables).not.toHaveProperty("ignored");
  });

  it("should take the replace strategy from the table hint, then the options, then the destination", async () => {
    const schema = dispositionSchema();
    (schema.getTable("users") as { "x-replace-strategy"?: string })["x-replace-strategy"] =
      "insert-from-staging";
    const dest = fileDestination({ dir: fixture.destDir, staging: true });
    await load(
      fixture,
      normalizedPackage(fixture, [{ table: "users", rows: [{ id: 1 }] }], schema, "1.1").pkg,
      dest,
      {
        replaceStrategy: "truncate-and-insert",
      },
    );
    expect(dest.calls.followupChains[0]?.disposition).toEqual({
      kind: "replace",
      strategy: "insert-from-staging",
    });

    const dest2 = destination(fixture, { staging: true });
    const pkg = normalizedPackage(
      fixture,
      [{ table: "users", rows: [{ id: 1 }] }],
      dispositionSchema(),
      "1.2",
    ).pkg;
    await load(
      fixture,
      pkg,
      { ...dest2, replaceStrategy: "truncate-and-insert" },
      { replaceStrategy: "insert-from-staging" },
    );
    expect(dest2.calls.followupChains[0]?.disposition).toEqual({
      kind: "replace",
      strategy: "insert-from-staging",
    });
  });

  it("should refuse a strategy the destination does not support before loading anything", async () => {
    const dest = destination(fixture, {
      staging: true,
      capabilities: { supportedMergeStrategies: ["delete-insert"] },
    });
    const schema = dispositionSchema();
    schema.getTable("orders")!["x-merge-strategy"] = "scd2";
    const { pkg } = normalizedPackage(fixture, [{ table: "orders", rows: [{ id: 1 }] }], schema);
    const error = await rejection(load(fixture, pkg, dest));
    expect(error.message).toMatch(/Merge strategy `scd2` of table `orders` is not supported/);
    expect(dest.calls.runs).toEqual([]);
    expect(fixture.storage.listPackages("normalized")).toEqual([pkg.loadId]);
  });

  it("should retry a transient follow-up failure under the next retry count", async () => {
    const dest = destination(fixture, { staging: true, followupFailure: { kind: "transient", times: 1 } });
    const { pkg } = normalizedPackage(fixture, [{ table: "users", rows: [{ id: 1 }] }], dispositionSchema());
    const result = await load(fixture, pkg, dest);
    expect(followups(result.package.path, "completed_jobs")).toEqual([
      expect.stringMatching(/^users\.[0-9a-f]{10}\.1\.sql$/),
    ]);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 1 }]);
  });
});

describe("loadPackage: failures keep merge and replace tables intact", () => {
  it("should run no follow-up when a job fails, keep the previous rows and abort the package", async () => {
    const dest = destination(fixture, { staging: true, failures: { [ITEMS]: { kind: "terminal" } } });
    dest.seed(DATASET, "users", [{ id: 1 }]);
    dest.seed(DATASET, "orders", [{ id: 0 }]);
    const { pkg } = fullPackage();
    const error = await rejection(load(fixture, pkg, dest));

    expect(isTsdltError(error, "LOAD_JOB_FAILED")).toBe(true);
    expect(error.message).toMatch(/merge and replace tables keep their previous rows/);
    expect(dest.calls.followupChains).toEqual([]);
    // the users chain loaded fine into staging, but no chain was swapped in: the package failed
    expect(dest.rows(STAGING, "users")).toEqual([{ id: 10 }]);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 1 }]);
    expect(dest.rows(DATASET, "orders")).toEqual([{ id: 0 }]);
    expect(dest.calls.completeLoad).toEqual([]);
  });

  it("should run the follow-ups of complete chains only when failed jobs do not raise", async () => {
    const dest = destination(fixture, { staging: true, failures: { [ITEMS]: { kind: "terminal" } } });
    dest.seed(DATASET, "orders", [{ id: 0 }]);
    const { pkg } = fullPackage();
    const result = await load(fixture, pkg, dest, { raiseOnFailedJobs: false });
    expect(result.state).toBe("loaded");
    expect(dest.calls.followupChains.map((c) => c.tables[0]?.name)).toEqual(["users"]);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 10 }]);
    expect(dest.rows(DATASET, "orders")).toEqual([{ id: 0 }]);
  });

  it("should record a follow-up that cannot be created as a failed `.sql` job", async () => {
    const dest = destination(fixture, { staging: true, failFollowupCreation: new Error("no primary key") });
    dest.seed(DATASET, "users", [{ id: 1 }]);
    const { pkg } = normalizedPackage(fixture, [{ table: "users", rows: [{ id: 2 }] }], dispositionSchema());
    const error = await rejection(load(fixture, pkg, dest));
    expect(error.message).toMatch(/no primary key/);
    const moved = fixture.storage.getPackage("loaded", pkg.loadId) as LoadPackage;
    expect(followups(moved.path, "failed_jobs")).toEqual([
      expect.stringMatching(/^users\.[0-9a-f]{10}\.0\.sql$/),
    ]);
    expect(exceptionFiles(moved.path)).toHaveLength(1);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 1 }]);
  });

  it("should keep the previous rows when the follow-up itself fails", async () => {
    const dest = destination(fixture, {
      staging: true,
      followupFailure: { kind: "terminal", message: "rolled back" },
    });
    dest.seed(DATASET, "users", [{ id: 1 }]);
    const { pkg } = normalizedPackage(fixture, [{ table: "users", rows: [{ id: 2 }] }], dispositionSchema());
    await expect(load(fixture, pkg, dest)).rejects.toThrow(/rolled back/);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 1 }]);
  });
});

describe("loadPackage: resuming a crashed load", () => {
  it("should not truncate staging again and create the missing follow-up when data jobs had completed", async () => {
    // crash after the data jobs of `users` completed, before its follow-up was written
    const { pkg } = normalizedPackage(
      fixture,
      [{ table: "users", fileId: "bbbbbbbbb1", rows: [{ id: 10 }], state: "completed_jobs" }],
      dispositionSchema(),
    );
    const dest = destination(fixture, { staging: true });
    dest.seed(DATASET, "users", [{ id: 1 }]);
    dest.seed(STAGING, "users", [{ id: 10 }]);
    // before the resume the previous rows are in place
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 1 }]);

    const result = await load(fixture, pkg, dest);
    expect(dest.calls.stagingInit).toEqual([{ tables: ["users", "users__tags"], truncateTables: [] }]);
    expect(dest.calls.runs.filter((f) => f.endsWith(".jsonl"))).toEqual([]);
    expect(followups(result.package.path, "completed_jobs")).toHaveLength(1);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 10 }]);
  });

  it("should run a follow-up written before the crash and not create another", async () => {
    const { pkg } = normalizedPackage(
      fixture,
      [{ table: "orders", fileId: "aaaaaaaaa1", rows: [{ id: 1 }], state: "completed_jobs" }],
      dispositionSchema(),
    );
    const command: FileFollowupCommand = { kind: "merge", strategy: "delete-insert", tables: ["orders"] };
    writeFileSync(pkg.jobPath("started_jobs", "orders.eeeeeeeee1.0.sql"), JSON.stringify(command));
    const dest = destination(fixture, { staging: true });
    dest.seed(STAGING, "orders", [{ id: 1 }]);

    const result = await load(fixture, pkg, dest);
    expect(dest.calls.followupChains).toEqual([]);
    expect(dest.calls.runs).toEqual(["orders.eeeeeeeee1.0.sql"]);
    expect(followups(result.package.path, "completed_jobs")).toEqual(["orders.eeeeeeeee1.0.sql"]);
    expect(dest.rows(DATASET, "orders")).toEqual([{ id: 1 }]);
    expect(result.package.readJson(PACKAGE_FILES.completed)).toEqual({ status: "loaded" });
  });
});

describe("loadPackage: destinations without staging", () => {
  it("should truncate a fresh truncate-and-insert chain before loading it", async () => {
    const dest = destination(fixture);
    dest.seed(DATASET, "users", [{ id: 1 }]);
    dest.seed(DATASET, "users__tags", [{ tag: "old" }]);
    const { pkg } = fullPackage();
    const logger = recordingLogger();
    const result = await load(fixture, pkg, dest, { logger });
    expect(result.state).toBe("loaded");
    expect(dest.calls.truncated).toEqual(["users", "users__tags"]);
    expect(dest.calls.log.indexOf("truncate:users,users__tags")).toBeLessThan(
      dest.calls.log.indexOf(`run:${USERS}`),
    );
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 10 }]);
    expect(dest.rows(DATASET, "users__tags")).toEqual([]);
    // merge without merge strategies: appended, with dlt's warning
    expect(dest.rows(DATASET, "orders")).toEqual([{ id: 1 }, { id: 2 }]);
    expect(logger.messages.filter((m) => m.level === "warn").map((m) => m.message)).toEqual([
      expect.stringMatching(
        /`merge` write disposition of table `orders` cannot be met and its rows are appended/,
      ),
    ]);
  });

  it("should not truncate a chain again when resuming it", async () => {
    const dest = destination(fixture);
    dest.seed(DATASET, "users", [{ id: 10 }]);
    const { pkg } = normalizedPackage(
      fixture,
      [
        { table: "users", fileId: "bbbbbbbbb1", rows: [{ id: 10 }], state: "completed_jobs" },
        { table: "users", fileId: "bbbbbbbbb2", rows: [{ id: 11 }] },
      ],
      dispositionSchema(),
    );
    await load(fixture, pkg, dest);
    expect(dest.calls.truncated).toEqual([]);
    expect(dest.rows(DATASET, "users")).toEqual([{ id: 10 }, { id: 11 }]);
  });

  it("should refuse a staging replace strategy", async () => {
    const dest = destination(fixture, {
      capabilities: { supportedReplaceStrategies: ["truncate-and-insert", "insert-from-staging"] },
    });
    const { pkg } = normalizedPackage(fixture, [{ table: "users", rows: [{ id: 1 }] }], dispositionSchema());
    await expect(load(fixture, pkg, dest, { replaceStrategy: "insert-from-staging" })).rejects.toThrow(
      /needs a staging dataset and follow-up jobs/,
    );
  });
});
